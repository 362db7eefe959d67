//! The Teams app package: `manifests/teams/` (manifest and two icons) turned
//! into the `.zip` that an admin or user uploads to Teams, for one Azure Bot
//! registration.
//!
//! The committed `manifest.json` carries two placeholders that the builder
//! fills in, so that one file serves every deployment:
//!
//! - `{{MICROSOFT_APP_ID}}`, the Azure Bot's Microsoft App ID, in `bots[0].botId`
//!   *and* in the Teams app `id`. The two need not be equal, but reusing the bot's
//!   GUID gives each deployment its own Teams app id without a second setting, and
//!   keeps that id stable across rebuilds, so uploading a newer package updates the
//!   installed app instead of adding a second "1:1s" next to it.
//! - `{{VERSION}}`, the crate version, because Teams only accepts an updated
//!   package whose `version` is higher than the installed one.
//!
//! The builder checks what Teams would otherwise reject only at upload time, with
//! a vaguer message: the required fields and length limits of the manifest schema
//! (v1.19), the bot's command menu, the icons' pixel sizes and the outline icon's
//! white-on-transparent rule. It does not validate against the full JSON schema.
//!
//! The default manifest and icons are compiled into the binary, so a release
//! build can make a package without a checkout of the repository; a directory
//! with a customised copy can be given instead.
//!
//! Imports nothing from the rest of the crate except in its tests.

use serde_json::Value;
use std::fmt;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

/// The manifest compiled into the binary (`manifests/teams/manifest.json`).
const BUNDLED_MANIFEST: &str = include_str!("../../manifests/teams/manifest.json");
/// The colour icon compiled into the binary.
const BUNDLED_COLOR: &[u8] = include_bytes!("../../manifests/teams/color.png");
/// The outline icon compiled into the binary.
const BUNDLED_OUTLINE: &[u8] = include_bytes!("../../manifests/teams/outline.png");

/// The manifest's file name, in the source directory and at the root of the zip.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Replaced by the Azure Bot's Microsoft App ID.
pub const APP_ID_PLACEHOLDER: &str = "{{MICROSOFT_APP_ID}}";
/// Replaced by the crate version.
pub const VERSION_PLACEHOLDER: &str = "{{VERSION}}";

/// Colour icon size in pixels (square).
const COLOR_ICON_PX: u32 = 192;
/// Outline icon size in pixels (square).
const OUTLINE_ICON_PX: u32 = 32;
/// Most commands in one command list (schema `maxItems`).
const MAX_COMMANDS: usize = 10;
/// Most command lists on the bot (schema `maxItems`).
const MAX_COMMAND_LISTS: usize = 3;
/// Most entries in `validDomains` (schema v1.19 `maxItems`).
const MAX_VALID_DOMAINS: usize = 16;
/// The length "limit" of a field whose format check already bounds it (ids,
/// colours, URLs, file names), so a bad value gets one message, not two.
const BY_FORMAT: usize = usize::MAX;
/// The scopes a bot may declare in schema v1.19 (`groupchat` is the older spelling).
const BOT_SCOPES: &[&str] = &["personal", "team", "groupChat", "groupchat"];

/// Why a package could not be built. Each message is one line that names the
/// file or setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The app id given is not a GUID.
    #[error(
        "--app-id {given}: not a GUID; give the Azure Bot's Microsoft App ID, \
         which looks like 6f1c2e3a-0b4d-4e5f-8a9b-0c1d2e3f4a5b"
    )]
    InvalidAppId {
        /// What was given, clipped and quoted.
        given: String,
    },
    /// A source file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `manifest.json` is not JSON.
    #[error("{} is not valid JSON", path.display())]
    Json {
        /// The manifest file.
        path: PathBuf,
        /// Where and why.
        #[source]
        source: serde_json::Error,
    },
    /// The manifest or an icon breaks a rule Teams enforces on upload.
    #[error("the Teams app package would be refused: {}", problems.join("; "))]
    Invalid {
        /// Every problem found, each naming its field or file.
        problems: Vec<String>,
    },
    /// The zip could not be assembled.
    #[error("cannot assemble the zip")]
    Zip(#[from] zip::result::ZipError),
    /// The package could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// An Azure Bot's Microsoft App ID: a GUID, kept in lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppId(String);

impl AppId {
    /// Parses `8-4-4-4-12` hexadecimal digits (surrounding whitespace is ignored).
    pub fn parse(s: &str) -> Result<AppId, PackageError> {
        let s = s.trim();
        if is_guid(s) {
            Ok(AppId(s.to_ascii_lowercase()))
        } else {
            Err(PackageError::InvalidAppId {
                given: quote_clipped(s),
            })
        }
    }

    /// The GUID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What [`build_package`] wrote, for a one-line report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSummary {
    /// The zip that was written.
    pub out: PathBuf,
    /// Its size in bytes.
    pub bytes: usize,
    /// The bot id in the manifest.
    pub bot_id: String,
    /// The Teams app id in the manifest.
    pub teams_app_id: String,
    /// The manifest's `version`.
    pub version: String,
    /// The manifest's `manifestVersion` (the schema version).
    pub manifest_version: String,
    /// The titles of the bot's command menu.
    pub commands: Vec<String>,
    /// The zip's entries, in order.
    pub entries: Vec<String>,
}

impl fmt::Display for PackageSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {} ({} bytes): Teams app {} version {} for bot {}, manifest schema {}, {} commands",
            self.out.display(),
            self.bytes,
            self.teams_app_id,
            self.version,
            self.bot_id,
            self.manifest_version,
            self.commands.len()
        )
    }
}

/// Builds the package from `manifest_dir` (a `manifest.json` and the icons it
/// names) for the bot `app_id`, and writes it to `out`.
///
/// Nothing is written unless every check passes.
pub fn build_package(manifest_dir: &Path, app_id: &str, out: &Path) -> Result<PackageSummary, PackageError> {
    build(&Source::Dir(manifest_dir), app_id, out)
}

/// Builds the package from the manifest and icons compiled into the binary.
pub fn build_bundled_package(app_id: &str, out: &Path) -> Result<PackageSummary, PackageError> {
    build(&Source::Bundled, app_id, out)
}

/// The bundled manifest for the bot `app_id`, placeholders filled in and checked.
pub fn manifest_for(app_id: &str) -> Result<Value, PackageError> {
    let app_id = AppId::parse(app_id)?;
    let manifest = Source::Bundled.manifest(&app_id)?;
    let problems = check_manifest(&manifest, &app_id);
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(PackageError::Invalid { problems })
    }
}

/// Where the manifest and icons come from.
enum Source<'a> {
    /// A directory holding `manifest.json` and the icons it names.
    Dir(&'a Path),
    /// The copies compiled into the binary.
    Bundled,
}

impl Source<'_> {
    /// Reads `name` from the source.
    fn read(&self, name: &str) -> Result<Vec<u8>, PackageError> {
        match self {
            Source::Dir(dir) => {
                let path = dir.join(name);
                std::fs::read(&path).map_err(|source| PackageError::Read { path, source })
            }
            Source::Bundled => match name {
                MANIFEST_FILE => Ok(BUNDLED_MANIFEST.as_bytes().to_vec()),
                "color.png" => Ok(BUNDLED_COLOR.to_vec()),
                "outline.png" => Ok(BUNDLED_OUTLINE.to_vec()),
                _ => Err(PackageError::Read {
                    path: PathBuf::from(name),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "not among the bundled files"),
                }),
            },
        }
    }

    /// The manifest's path, for messages.
    fn manifest_path(&self) -> PathBuf {
        match self {
            Source::Dir(dir) => dir.join(MANIFEST_FILE),
            Source::Bundled => PathBuf::from(format!("bundled {MANIFEST_FILE}")),
        }
    }

    /// The manifest, parsed, with its placeholders filled in.
    fn manifest(&self, app_id: &AppId) -> Result<Value, PackageError> {
        let bytes = self.read(MANIFEST_FILE)?;
        let mut manifest: Value = serde_json::from_slice(&bytes).map_err(|source| PackageError::Json {
            path: self.manifest_path(),
            source,
        })?;
        // Replaced inside parsed strings rather than in the raw text, so no value
        // can ever change the JSON's structure.
        fill_placeholders(&mut manifest, app_id);
        Ok(manifest)
    }
}

fn build(source: &Source<'_>, app_id: &str, out: &Path) -> Result<PackageSummary, PackageError> {
    let app_id = AppId::parse(app_id)?;
    let manifest = source.manifest(&app_id)?;
    let mut problems = check_manifest(&manifest, &app_id);

    // The icons the manifest names, each checked for its role.
    let mut icons = Vec::new();
    for (role, size, outline) in [("color", COLOR_ICON_PX, false), ("outline", OUTLINE_ICON_PX, true)] {
        let Some(name) = icon_name(&manifest, role) else {
            continue; // already reported by check_manifest
        };
        let bytes = source.read(name)?;
        problems.extend(check_icon(name, &bytes, size, outline));
        icons.push((name.to_string(), bytes));
    }
    if !problems.is_empty() {
        return Err(PackageError::Invalid { problems });
    }

    // Serialising a `Value` does not fail in practice; if it did, name the file.
    let manifest_text = serde_json::to_vec_pretty(&manifest).map_err(|source| PackageError::Json {
        path: PathBuf::from(MANIFEST_FILE),
        source,
    })?;
    let mut files = vec![(MANIFEST_FILE.to_string(), manifest_text)];
    files.extend(icons);
    let zip_bytes = zip_files(&files)?;
    std::fs::write(out, &zip_bytes).map_err(|source| PackageError::Write {
        path: out.to_path_buf(),
        source,
    })?;

    Ok(PackageSummary {
        out: out.to_path_buf(),
        bytes: zip_bytes.len(),
        bot_id: app_id.to_string(),
        teams_app_id: str_at(&manifest, &["id"]).unwrap_or_default().to_string(),
        version: str_at(&manifest, &["version"]).unwrap_or_default().to_string(),
        manifest_version: str_at(&manifest, &["manifestVersion"]).unwrap_or_default().to_string(),
        commands: command_titles(&manifest),
        entries: files.into_iter().map(|(name, _)| name).collect(),
    })
}

/// A zip of `files`, each at the root, deflated, with a fixed timestamp so the
/// same inputs always give the same bytes.
fn zip_files(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, PackageError> {
    use zip::write::SimpleFileOptions;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options)?;
        zip.write_all(bytes).map_err(zip::result::ZipError::Io)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// Replaces the placeholders in every string of `value`.
fn fill_placeholders(value: &mut Value, app_id: &AppId) {
    match value {
        Value::String(s) if s.contains("{{") => {
            *s = s
                .replace(APP_ID_PLACEHOLDER, app_id.as_str())
                .replace(VERSION_PLACEHOLDER, env!("CARGO_PKG_VERSION"));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| fill_placeholders(v, app_id)),
        Value::Object(map) => map.values_mut().for_each(|v| fill_placeholders(v, app_id)),
        _ => {}
    }
}

/// Every problem Teams would find in `manifest` on upload (the subset of the
/// v1.19 schema that a bot app uses), each naming its field.
fn check_manifest(manifest: &Value, app_id: &AppId) -> Vec<String> {
    let mut c = Checker::default();
    if !manifest.is_object() {
        c.problem("manifest.json: expected a JSON object");
        return c.problems;
    }
    c.placeholders_left(manifest, "");

    c.string(manifest, &["manifestVersion"], 16);
    if let Some(v) = c.string(manifest, &["version"], 256)
        && !is_semver(v)
    {
        c.problem(format!("version: {} is not a version like 1.2.3", quote_clipped(v)));
    }
    if let Some(id) = c.string(manifest, &["id"], BY_FORMAT)
        && !is_guid(id)
    {
        c.problem(format!("id: {} is not a GUID", quote_clipped(id)));
    }

    c.string(manifest, &["developer", "name"], 32);
    for field in ["websiteUrl", "privacyUrl", "termsOfUseUrl"] {
        if let Some(url) = c.string(manifest, &["developer", field], BY_FORMAT)
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            c.problem(format!(
                "developer.{field}: {} is not an http(s) URL",
                quote_clipped(url)
            ));
        }
    }
    c.string(manifest, &["name", "short"], 30);
    c.string(manifest, &["name", "full"], 100);
    c.string(manifest, &["description", "short"], 80);
    c.string(manifest, &["description", "full"], 4000);
    for role in ["color", "outline"] {
        if let Some(name) = c.string(manifest, &["icons", role], BY_FORMAT)
            && !is_root_png(name)
        {
            c.problem(format!(
                "icons.{role}: {} must be a .png file name beside manifest.json (the zip has no folders)",
                quote_clipped(name)
            ));
        }
    }
    if let (Some(color), Some(outline)) = (
        str_at(manifest, &["icons", "color"]),
        str_at(manifest, &["icons", "outline"]),
    ) && color.eq_ignore_ascii_case(outline)
    {
        c.problem("icons: the color and outline icons must be two different files");
    }
    if let Some(color) = c.string(manifest, &["accentColor"], BY_FORMAT)
        && !is_hex_color(color)
    {
        c.problem(format!(
            "accentColor: {} is not a colour like #4464EE",
            quote_clipped(color)
        ));
    }
    if let Some(domains) = manifest.get("validDomains") {
        match domains.as_array() {
            Some(d) if d.len() > MAX_VALID_DOMAINS => {
                c.problem(format!(
                    "validDomains: {} entries, at most {MAX_VALID_DOMAINS}",
                    d.len()
                ));
            }
            Some(_) => {}
            None => c.problem("validDomains: expected a list"),
        }
    }
    c.bot(manifest, app_id);
    c.problems
}

/// Collects problems while reading fields.
#[derive(Default)]
struct Checker {
    problems: Vec<String>,
}

impl Checker {
    fn problem(&mut self, p: impl Into<String>) {
        self.problems.push(p.into());
    }

    /// The non-empty string at `path`, at most `max` characters; a problem otherwise.
    fn string<'v>(&mut self, value: &'v Value, path: &[&str], max: usize) -> Option<&'v str> {
        let name = path.join(".");
        match lookup(value, path) {
            None | Some(Value::Null) => {
                self.problem(format!("{name}: missing"));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.problem(format!("{name}: empty"));
                None
            }
            Some(Value::String(s)) => {
                let len = s.chars().count();
                if len > max {
                    self.problem(format!("{name}: {len} characters, at most {max}"));
                }
                Some(s.as_str())
            }
            Some(_) => {
                self.problem(format!("{name}: expected a string"));
                None
            }
        }
    }

    /// Reports every string still holding a `{{…}}` placeholder.
    fn placeholders_left(&mut self, value: &Value, at: &str) {
        match value {
            Value::String(s) => {
                if let Some(start) = s.find("{{")
                    && let Some(len) = s[start..].find("}}")
                {
                    let placeholder = &s[start..start + len + 2];
                    self.problem(format!("{at}: placeholder {placeholder} was not filled in"));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    self.placeholders_left(v, &format!("{at}[{i}]"));
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let at = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                    self.placeholders_left(v, &at);
                }
            }
            _ => {}
        }
    }

    /// The one bot: its id, scopes and command menu.
    fn bot(&mut self, manifest: &Value, app_id: &AppId) {
        let Some(bots) = manifest.get("bots").and_then(Value::as_array) else {
            self.problem("bots: missing; oneonone is a bot, so the manifest needs exactly one");
            return;
        };
        let [bot] = bots.as_slice() else {
            self.problem(format!("bots: {} entries, Teams allows exactly one", bots.len()));
            return;
        };
        if let Some(id) = self.string(bot, &["botId"], BY_FORMAT)
            && !id.eq_ignore_ascii_case(app_id.as_str())
        {
            self.problem(format!(
                "bots[0].botId: {} differs from --app-id {app_id}; Teams would send the messages to another bot",
                quote_clipped(id)
            ));
        }
        match bot.get("scopes").and_then(Value::as_array) {
            None => self.problem("bots[0].scopes: missing"),
            Some(scopes) => {
                let scopes: Vec<Option<&str>> = scopes.iter().map(Value::as_str).collect();
                if !scopes.contains(&Some("personal")) {
                    self.problem("bots[0].scopes: must include \"personal\": oneonone talks to people one to one");
                }
                for s in scopes {
                    if !s.is_some_and(|s| BOT_SCOPES.contains(&s)) {
                        self.problem(format!("bots[0].scopes: unknown scope {s:?}"));
                    }
                }
            }
        }
        for flag in ["isNotificationOnly", "supportsFiles"] {
            if bot.get(flag).is_some_and(|v| !v.is_boolean()) {
                self.problem(format!("bots[0].{flag}: expected true or false"));
            }
        }
        if bot.get("isNotificationOnly") == Some(&Value::Bool(true)) {
            self.problem("bots[0].isNotificationOnly: must be false: people type commands to the bot");
        }
        let Some(lists) = bot.get("commandLists") else {
            return;
        };
        let Some(lists) = lists.as_array() else {
            self.problem("bots[0].commandLists: expected a list");
            return;
        };
        if lists.len() > MAX_COMMAND_LISTS {
            self.problem(format!(
                "bots[0].commandLists: {} lists, at most {MAX_COMMAND_LISTS}",
                lists.len()
            ));
        }
        for (i, list) in lists.iter().enumerate() {
            let at = format!("bots[0].commandLists[{i}]");
            if !list.get("scopes").is_some_and(Value::is_array) {
                self.problem(format!("{at}.scopes: missing"));
            }
            let Some(commands) = list.get("commands").and_then(Value::as_array) else {
                self.problem(format!("{at}.commands: missing"));
                continue;
            };
            if commands.len() > MAX_COMMANDS {
                self.problem(format!(
                    "{at}.commands: {} commands, Teams shows at most {MAX_COMMANDS}",
                    commands.len()
                ));
            }
            for (j, command) in commands.iter().enumerate() {
                let before = self.problems.len();
                self.string(command, &["title"], 32);
                self.string(command, &["description"], 128);
                // `string` names the field relative to the command; say which command.
                for p in &mut self.problems[before..] {
                    *p = format!("{at}.commands[{j}].{p}");
                }
            }
        }
    }
}

/// Every problem with the icon `name` as Teams sees it: a PNG of `size`×`size`
/// pixels, and for the outline icon only white (255,255,255) and transparency.
fn check_icon(name: &str, bytes: &[u8], size: u32, outline: bool) -> Vec<String> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // Palette and low bit depths become 8-bit channels, tRNS becomes alpha, so
    // the pixel test below sees every PNG flavour the same way.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = match decoder.read_info() {
        Ok(r) => r,
        Err(e) => return vec![format!("{name}: not a readable PNG ({e})")],
    };
    let (width, height) = (reader.info().width, reader.info().height);
    if (width, height) != (size, size) {
        return vec![format!("{name}: {width}×{height} pixels, must be {size}×{size}")];
    }
    if !outline {
        return Vec::new();
    }
    let Some(len) = reader.output_buffer_size() else {
        return vec![format!("{name}: too large to decode")];
    };
    let mut buf = vec![0; len];
    let frame = match reader.next_frame(&mut buf) {
        Ok(f) => f,
        Err(e) => return vec![format!("{name}: not a readable PNG ({e})")],
    };
    let pixels = &buf[..frame.buffer_size()];
    // (is white, alpha) for each pixel.
    let px: Vec<(bool, u8)> = match frame.color_type {
        png::ColorType::Rgba => pixels
            .chunks_exact(4)
            .map(|p| (p[..3] == [255, 255, 255], p[3]))
            .collect(),
        png::ColorType::GrayscaleAlpha => pixels.chunks_exact(2).map(|p| (p[0] == 255, p[1])).collect(),
        _ => {
            return vec![format!(
                "{name}: has no transparency; the outline icon is white on transparent"
            )];
        }
    };
    let mut problems = Vec::new();
    let coloured = px.iter().filter(|(white, alpha)| *alpha > 0 && !white).count();
    if coloured > 0 {
        problems.push(format!(
            "{name}: {coloured} visible pixels are not white; the outline icon is white (255,255,255) on transparent"
        ));
    }
    if !px.iter().any(|(_, alpha)| *alpha == 0) {
        problems.push(format!(
            "{name}: no fully transparent pixel; the background must be transparent"
        ));
    }
    if !px.iter().any(|(_, alpha)| *alpha > 0) {
        problems.push(format!("{name}: fully transparent, so the icon is invisible"));
    }
    problems
}

fn lookup<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn str_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    lookup(value, path).and_then(Value::as_str)
}

fn icon_name<'v>(manifest: &'v Value, role: &str) -> Option<&'v str> {
    str_at(manifest, &["icons", role]).filter(|n| is_root_png(n))
}

fn command_titles(manifest: &Value) -> Vec<String> {
    lookup(manifest, &["bots"])
        .and_then(|b| b.get(0))
        .and_then(|b| b.get("commandLists"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|list| list.get("commands").and_then(Value::as_array))
        .flatten()
        .filter_map(|c| c.get("title").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `MAJOR.MINOR.PATCH` with an optional `-pre` or `+build` suffix.
fn is_semver(s: &str) -> bool {
    let core = s.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// `#RRGGBB`.
fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// A `.png` name with no folder in it.
fn is_root_png(name: &str) -> bool {
    !name.contains(['/', '\\']) && name != ".png" && name.to_ascii_lowercase().ends_with(".png")
}

/// `s` in quotes, clipped to 40 characters, for messages.
fn quote_clipped(s: &str) -> String {
    let mut clipped: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        clipped.push('…');
    }
    format!("{clipped:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::grammar::{parse, usage_of};
    use std::io::Read;

    const APP_ID: &str = "6f1c2e3a-0b4d-4e5f-8a9b-0c1d2e3f4a5b";

    fn source_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/teams")
    }

    /// The zip's entries, in order, with their contents.
    fn unzip(path: &Path) -> Vec<(String, Vec<u8>)> {
        let bytes = std::fs::read(path).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                let mut data = Vec::new();
                file.read_to_end(&mut data).unwrap();
                (file.name().unwrap().to_string(), data)
            })
            .collect()
    }

    fn entry<'a>(entries: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
        &entries.iter().find(|(n, _)| n == name).unwrap().1
    }

    /// Width and height from the IHDR chunk, which PNG puts first.
    fn ihdr_size(png: &[u8]) -> (u32, u32) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        (be(&png[16..20]), be(&png[20..24]))
    }

    /// A copy of `manifests/teams` whose manifest `edit` changes.
    fn edited_dir(edit: impl FnOnce(&mut Value)) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in ["color.png", "outline.png"] {
            std::fs::copy(source_dir().join(name), dir.path().join(name)).unwrap();
        }
        let mut manifest: Value = serde_json::from_str(BUNDLED_MANIFEST).unwrap();
        edit(&mut manifest);
        std::fs::write(dir.path().join(MANIFEST_FILE), serde_json::to_vec(&manifest).unwrap()).unwrap();
        dir
    }

    fn problems_of(result: Result<PackageSummary, PackageError>) -> Vec<String> {
        match result {
            Err(PackageError::Invalid { problems }) => problems,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    /// An RGBA PNG of `size`×`size` whose pixels come from `px`.
    fn rgba_png(size: u32, px: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, size, size);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let px = &px;
        let data: Vec<u8> = (0..size).flat_map(|y| (0..size).flat_map(move |x| px(x, y))).collect();
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn the_zip_holds_exactly_the_manifest_and_both_icons_at_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("oneonone-teams.zip");
        let summary = build_package(&source_dir(), APP_ID, &out).unwrap();
        let names: Vec<String> = unzip(&out).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["manifest.json", "color.png", "outline.png"]);
        assert_eq!(summary.entries, names);
        assert_eq!(summary.bytes as u64, std::fs::metadata(&out).unwrap().len());
    }

    #[test]
    fn the_manifest_inside_names_the_app_id_as_teams_app_and_as_bot() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("p.zip");
        // Upper case and stray whitespace, as pasted from a portal, are fine.
        let summary = build_package(&source_dir(), &format!(" {} ", APP_ID.to_uppercase()), &out).unwrap();
        let manifest: Value = serde_json::from_slice(entry(&unzip(&out), MANIFEST_FILE)).unwrap();
        assert_eq!(manifest["id"], APP_ID);
        assert_eq!(manifest["bots"][0]["botId"], APP_ID);
        assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(
            (summary.bot_id.as_str(), summary.teams_app_id.as_str()),
            (APP_ID, APP_ID)
        );
        assert!(summary.to_string().starts_with("wrote "), "{summary}");
    }

    #[test]
    fn no_placeholder_is_left_after_building() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("p.zip");
        build_package(&source_dir(), APP_ID, &out).unwrap();
        let text = String::from_utf8(entry(&unzip(&out), MANIFEST_FILE).to_vec()).unwrap();
        assert!(!text.contains("{{") && !text.contains("}}"), "{text}");
        // The committed file does have them: that is what makes it reusable.
        assert!(BUNDLED_MANIFEST.contains(APP_ID_PLACEHOLDER) && BUNDLED_MANIFEST.contains(VERSION_PLACEHOLDER));
    }

    #[test]
    fn an_unknown_placeholder_is_refused_and_named() {
        let dir = edited_dir(|m| m["developer"]["websiteUrl"] = "https://{{HOST}}/".into());
        let out = dir.path().join("p.zip");
        let problems = problems_of(build_package(dir.path(), APP_ID, &out));
        assert_eq!(
            problems,
            ["developer.websiteUrl: placeholder {{HOST}} was not filled in"]
        );
        assert!(!out.exists());
    }

    #[test]
    fn an_app_id_that_is_not_a_guid_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("p.zip");
        for bad in [
            "",
            "my-bot",
            "6f1c2e3a-0b4d-4e5f-8a9b-0c1d2e3f4a5",
            "6f1c2e3a0b4d4e5f8a9b0c1d2e3f4a5b",
            "{6f1c2e3a-0b4d-4e5f-8a9b-0c1d2e3f4a5b}",
            "6f1c2e3a-0b4d-4e5f-8a9b-0c1d2e3f4a5g",
        ] {
            let err = build_package(&source_dir(), bad, &out).unwrap_err();
            assert!(matches!(err, PackageError::InvalidAppId { .. }), "{bad}: {err:?}");
            let message = err.to_string();
            assert!(message.starts_with("--app-id "), "{message}");
            assert!(
                message.contains("not a GUID") && message.contains("Microsoft App ID"),
                "{message}"
            );
        }
        assert!(!out.exists());
        let long = "x".repeat(500);
        let message = AppId::parse(&long).unwrap_err().to_string();
        assert!(message.len() < 200, "the input is clipped: {message}");
    }

    #[test]
    fn the_icons_have_the_sizes_teams_requires_and_the_outline_is_white_on_transparent() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("p.zip");
        build_package(&source_dir(), APP_ID, &out).unwrap();
        let entries = unzip(&out);
        assert_eq!(ihdr_size(entry(&entries, "color.png")), (192, 192));
        assert_eq!(ihdr_size(entry(&entries, "outline.png")), (32, 32));
        assert!(check_icon("outline.png", entry(&entries, "outline.png"), 32, true).is_empty());
        assert!(check_icon("color.png", entry(&entries, "color.png"), 192, false).is_empty());
    }

    #[test]
    fn icons_of_the_wrong_size_are_refused() {
        let dir = edited_dir(|_| {});
        std::fs::copy(source_dir().join("color.png"), dir.path().join("outline.png")).unwrap();
        let problems = problems_of(build_package(dir.path(), APP_ID, &dir.path().join("p.zip")));
        assert_eq!(problems, ["outline.png: 192×192 pixels, must be 32×32"]);
    }

    #[test]
    fn an_outline_icon_with_colour_or_without_transparency_is_refused() {
        let red = rgba_png(32, |x, _| if x < 16 { [255, 0, 0, 255] } else { [0, 0, 0, 0] });
        assert_eq!(
            check_icon("outline.png", &red, 32, true),
            ["outline.png: 512 visible pixels are not white; the outline icon is white (255,255,255) on transparent"]
        );
        let opaque = rgba_png(32, |_, _| [255, 255, 255, 255]);
        assert_eq!(
            check_icon("outline.png", &opaque, 32, true),
            ["outline.png: no fully transparent pixel; the background must be transparent"]
        );
        // White on transparent, anti-aliased through alpha only: accepted.
        let soft = rgba_png(32, |x, y| [255, 255, 255, ((x + y) * 4) as u8]);
        assert!(check_icon("outline.png", &soft, 32, true).is_empty());
        assert!(check_icon("outline.png", b"not a png", 32, true)[0].starts_with("outline.png: not a readable PNG"));
    }

    #[test]
    fn every_command_in_the_menu_is_a_command_of_the_grammar() {
        let manifest = manifest_for(APP_ID).unwrap();
        let titles = command_titles(&manifest);
        assert!(!titles.is_empty() && titles.len() <= MAX_COMMANDS, "{titles:?}");
        for title in &titles {
            let usage = usage_of(title).unwrap_or_else(|| panic!("{title} is not in the help table"));
            // Teams puts the title in the compose box; sent as is, or with an
            // argument, it is read as that command (maybe asking for more), never
            // as an unknown one.
            for line in [title.clone(), format!("{title} x")] {
                if let Err(e) = parse(&line) {
                    assert_eq!(e.usage, usage.usage, "{line:?} was not read as {title}: {}", e.message);
                }
            }
        }
    }

    #[test]
    fn the_same_inputs_always_give_the_same_zip() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
        build_package(&source_dir(), APP_ID, &a).unwrap();
        build_bundled_package(APP_ID, &b).unwrap();
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }

    #[test]
    fn the_schema_limits_are_checked_and_every_problem_is_reported_at_once() {
        let dir = edited_dir(|m| {
            m["name"]["short"] = "a".repeat(31).into();
            m["accentColor"] = "blue".into();
            m["developer"]["privacyUrl"] = Value::Null;
            let commands = &mut m["bots"][0]["commandLists"][0]["commands"];
            commands[0]["title"] = "t".repeat(33).into();
            commands[1]["description"] = "d".repeat(129).into();
            let extra = commands[2].clone();
            commands.as_array_mut().unwrap().push(extra);
        });
        let problems = problems_of(build_package(dir.path(), APP_ID, &dir.path().join("p.zip")));
        assert_eq!(
            problems,
            [
                "developer.privacyUrl: missing",
                "name.short: 31 characters, at most 30",
                "accentColor: \"blue\" is not a colour like #4464EE",
                "bots[0].commandLists[0].commands: 11 commands, Teams shows at most 10",
                "bots[0].commandLists[0].commands[0].title: 33 characters, at most 32",
                "bots[0].commandLists[0].commands[1].description: 129 characters, at most 128",
            ]
        );
    }

    #[test]
    fn one_file_for_both_icons_is_refused() {
        let dir = edited_dir(|m| m["icons"]["outline"] = "color.png".into());
        let problems = problems_of(build_package(dir.path(), APP_ID, &dir.path().join("p.zip")));
        assert_eq!(
            problems[0],
            "icons: the color and outline icons must be two different files"
        );
    }

    #[test]
    fn a_bot_id_other_than_the_app_id_is_refused() {
        let dir = edited_dir(|m| m["bots"][0]["botId"] = "00000000-0000-0000-0000-000000000000".into());
        let problems = problems_of(build_package(dir.path(), APP_ID, &dir.path().join("p.zip")));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("bots[0].botId: \"00000000-0000-0000-0000-000000000000\" differs from --app-id")
        );
    }

    #[test]
    fn a_missing_manifest_directory_names_the_file() {
        let err = build_package(Path::new("/nonexistent/teams"), APP_ID, Path::new("/tmp/never.zip")).unwrap_err();
        assert_eq!(err.to_string(), "cannot read /nonexistent/teams/manifest.json");
    }
}
