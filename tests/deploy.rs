//! The deployment files, kept honest against the code. No Docker engine or
//! Kubernetes cluster runs here, so this checks what they would rely on:
//!
//! - `Dockerfile` and `.dockerignore`: the binary Cargo builds is the
//!   entrypoint, its subcommands exist, the exposed port is the default
//!   listen port, SQLite lives on the declared volume, the user is not root,
//!   and everything the compiler embeds is copied in and not ignored;
//! - `oneonone healthcheck` (the image's HEALTHCHECK) against a real `serve`;
//! - `manifests/kubernetes/`: every variable set is a real setting and the
//!   example values are accepted, probes hit real routes of the running app,
//!   commands are real subcommands, pods run unprivileged on a read-only root
//!   with resources and enough grace to shut down, and the Service, HPA, PDB
//!   and kustomization fit together.

use oneonone::config::{self, RawConfig};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_oneonone");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

fn default_port() -> u16 {
    RawConfig::default()
        .listen()
        .expect("the default listen address")
        .port()
}

fn is_setting(var: &str) -> bool {
    config::settings().iter().any(|s| s == var)
}

/// Runs the binary; a subcommand (with its flags) exists when `ARGS --help` succeeds.
fn oneonone(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_clear().output().expect("run oneonone")
}

fn assert_subcommand(args: &[String]) {
    let mut with_help: Vec<&str> = args.iter().map(String::as_str).collect();
    with_help.push("--help");
    let out = oneonone(&with_help);
    assert!(
        out.status.success(),
        "`oneonone {}` is not a real command: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ================================================================ Dockerfile

#[derive(Debug, Clone)]
struct Instruction {
    /// 0 before the first FROM, then 1, 2, … per build stage.
    stage: usize,
    keyword: String,
    /// `--name=value` options in front of the arguments.
    flags: BTreeMap<String, String>,
    args: String,
}

impl Instruction {
    fn json_args(&self) -> Vec<String> {
        serde_json::from_str(&self.args)
            .unwrap_or_else(|e| panic!("{} {}: not the JSON form ({e})", self.keyword, self.args))
    }

    fn words(&self) -> Vec<&str> {
        self.args.split_whitespace().collect()
    }
}

/// The Dockerfile's instructions: comments dropped, continuations joined.
fn dockerfile() -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut stage = 0;
    let mut pending = String::new();
    for line in read("Dockerfile").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let full = std::mem::take(&mut pending);
        let (keyword, mut rest) = full.split_once(char::is_whitespace).unwrap_or((&full, ""));
        let keyword = keyword.to_ascii_uppercase();
        if keyword == "FROM" {
            stage += 1;
        }
        let mut flags = BTreeMap::new();
        rest = rest.trim_start();
        while let Some(option) = rest.strip_prefix("--") {
            let (flag, tail) = option.split_once(char::is_whitespace).unwrap_or((option, ""));
            let (name, value) = flag.split_once('=').unwrap_or((flag, ""));
            flags.insert(name.to_string(), value.to_string());
            rest = tail.trim_start();
        }
        out.push(Instruction {
            stage,
            keyword,
            flags,
            args: rest.trim().to_string(),
        });
    }
    out
}

fn stage_of(instructions: &[Instruction], name: &str) -> usize {
    instructions
        .iter()
        .find(|i| i.keyword == "FROM" && i.words().ends_with(&["AS", name]))
        .unwrap_or_else(|| panic!("no build stage named {name}"))
        .stage
}

fn final_stage(instructions: &[Instruction]) -> Vec<&Instruction> {
    let last = instructions.iter().map(|i| i.stage).max().unwrap_or(0);
    instructions.iter().filter(|i| i.stage == last).collect()
}

fn one<'a>(stage: &[&'a Instruction], keyword: &str) -> &'a Instruction {
    let found: Vec<_> = stage.iter().filter(|i| i.keyword == keyword).collect();
    assert_eq!(found.len(), 1, "exactly one {keyword} in the runtime stage");
    found[0]
}

/// `ENV A=1 B=2` of a stage.
fn env_of(stage: &[&Instruction]) -> BTreeMap<String, String> {
    stage
        .iter()
        .filter(|i| i.keyword == "ENV")
        .flat_map(|i| i.args.split_whitespace())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("ENV {kv}: use KEY=VALUE"));
            (k.to_string(), v.trim_matches('"').to_string())
        })
        .collect()
}

/// The runtime user's uid, from `USER uid[:gid]`.
fn image_uid() -> u32 {
    let instructions = dockerfile();
    let stage = final_stage(&instructions);
    let user = one(&stage, "USER");
    let uid = user.args.split(':').next().unwrap_or_default();
    uid.parse().unwrap_or_else(|_| {
        panic!(
            "USER {}: a numeric uid, so Kubernetes can check runAsNonRoot",
            user.args
        )
    })
}

fn entrypoint() -> Vec<String> {
    let instructions = dockerfile();
    one(&final_stage(&instructions), "ENTRYPOINT").json_args()
}

#[test]
fn the_image_runs_the_binary_cargo_builds_as_an_unprivileged_user() {
    let instructions = dockerfile();
    let runtime = final_stage(&instructions);
    let bin = Path::new(BIN)
        .file_name()
        .and_then(|n| n.to_str())
        .expect("binary name");
    assert_eq!(bin, env!("CARGO_PKG_NAME"));

    // The entrypoint is the one binary, copied from the build stage that builds it.
    let entry = entrypoint();
    assert_eq!(entry.len(), 1, "ENTRYPOINT is the binary alone: {entry:?}");
    assert_eq!(Path::new(&entry[0]).file_name().and_then(|n| n.to_str()), Some(bin));
    let copy = runtime
        .iter()
        .find(|i| i.keyword == "COPY" && i.words().last() == Some(&entry[0].as_str()))
        .expect("the entrypoint is copied into the runtime stage");
    let from = copy.flags.get("from").expect("copied from a build stage");
    let built_at = copy.words()[0];
    let build = stage_of(&instructions, from);
    let build_run: String = instructions
        .iter()
        .filter(|i| i.stage == build && i.keyword == "RUN")
        .map(|i| i.args.clone())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        build_run.contains(&format!("cargo build --release --locked --bin {bin}")),
        "{build_run}"
    );
    assert!(
        build_run.contains(&format!("target/release/{bin} {built_at}")),
        "the build puts target/release/{bin} at {built_at}: {build_run}"
    );

    // Not root, by number.
    assert_ne!(image_uid(), 0, "the image runs as root");

    // The builder's Debian is the runtime's: the binary links against its glibc.
    let base = |stage: usize| {
        instructions
            .iter()
            .find(|i| i.stage == stage && i.keyword == "FROM")
            .map(|i| i.words()[0].to_string())
            .expect("FROM")
    };
    let (builder, runtime_base) = (base(build), one(&runtime, "FROM").words()[0].to_string());
    let debian = [("bookworm", "debian12"), ("trixie", "debian13")];
    let (codename, version) = debian
        .iter()
        .find(|(codename, _)| builder.contains(codename))
        .unwrap_or_else(|| panic!("the builder {builder} names its Debian release"));
    assert!(
        runtime_base.contains(version),
        "built on {codename}, runs on {runtime_base}"
    );

    // The Rust the image builds with is at least the crate's rust-version.
    let rust = instructions
        .iter()
        .find(|i| i.keyword == "ARG" && i.args.starts_with("RUST_VERSION="))
        .map(|i| i.args["RUST_VERSION=".len()..].to_string())
        .expect("ARG RUST_VERSION=…");
    assert!(builder.contains("${RUST_VERSION}"), "{builder}");
    let version = |v: &str| -> (u32, u32) {
        let mut parts = v.split('.').map(|p| p.parse::<u32>().expect("a numeric version"));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    };
    assert!(
        version(&rust) >= version(env!("CARGO_PKG_RUST_VERSION")),
        "RUST_VERSION {rust} is older than the crate's rust-version"
    );
}

#[test]
fn the_image_listens_on_the_default_port_and_keeps_sqlite_on_its_volume() {
    let instructions = dockerfile();
    let runtime = final_stage(&instructions);
    let env = env_of(&runtime);
    for var in env.keys() {
        assert!(is_setting(var), "ENV {var} is not a setting");
    }
    let raw = RawConfig {
        database_url: env.get("DATABASE_URL").cloned(),
        listen: env.get("ONEONONE_LISTEN").cloned(),
        ..RawConfig::default()
    };

    // EXPOSE is the port the server listens on, which is the default port.
    let exposed: Vec<u16> = one(&runtime, "EXPOSE")
        .words()
        .iter()
        .map(|p| p.trim_end_matches("/tcp").parse().expect("EXPOSE PORT"))
        .collect();
    let listen = raw.listen().expect("ONEONONE_LISTEN is accepted");
    assert_eq!(exposed, vec![listen.port()]);
    assert_eq!(listen.port(), default_port());

    // The SQLite file is on the volume, and the volume belongs to the user.
    let url = raw.database_url().expect("DATABASE_URL is accepted");
    assert!(url.starts_with("sqlite:"), "{url}");
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("sqlx reads DATABASE_URL");
    let volume_instruction = one(&runtime, "VOLUME");
    let volume = match volume_instruction.args.starts_with('[') {
        true => volume_instruction.json_args(),
        false => volume_instruction.words().iter().map(|s| s.to_string()).collect(),
    };
    assert_eq!(volume.len(), 1, "{volume:?}");
    let volume = Path::new(&volume[0]);
    assert!(
        options.get_filename().starts_with(volume) && options.get_filename() != volume,
        "{} is not on the volume {}",
        options.get_filename().display(),
        volume.display()
    );
    // A relative path (the default DATABASE_URL, and .env.example's) is on it too.
    let workdir = one(&runtime, "WORKDIR").args.clone();
    let default_url: sqlx::sqlite::SqliteConnectOptions =
        config::DEFAULT_DATABASE_URL.parse().expect("sqlx reads the default");
    let default_file = Path::new(&workdir).join(default_url.get_filename());
    assert!(
        default_file.starts_with(volume) && default_file.is_absolute(),
        "{} is not on the volume",
        default_file.display()
    );
    let mount_point = runtime
        .iter()
        .find(|i| i.keyword == "COPY" && i.words().last().map(Path::new) == Some(volume))
        .expect("the volume's mount point is made in the image");
    let owner = mount_point.flags.get("chown").expect("COPY --chown=UID:GID");
    assert_eq!(owner.split(':').next(), Some(image_uid().to_string().as_str()));
}

#[test]
fn the_image_commands_are_real_subcommands() {
    let instructions = dockerfile();
    let runtime = final_stage(&instructions);
    let entry = entrypoint();
    assert_subcommand(&one(&runtime, "CMD").json_args());

    // HEALTHCHECK runs the binary's own probe, and gives it time to report.
    let health = one(&runtime, "HEALTHCHECK");
    let command = health.args.strip_prefix("CMD").expect("HEALTHCHECK CMD […]").trim();
    let command: Vec<String> = serde_json::from_str(command).expect("HEALTHCHECK CMD in the JSON form");
    assert_eq!(command[0], entry[0], "the health check runs the entrypoint");
    assert_eq!(command[1], "healthcheck");
    assert_subcommand(&command[1..]);
    let seconds = |flag: &str| -> u64 {
        let v = health.flags.get(flag).unwrap_or_else(|| panic!("HEALTHCHECK --{flag}"));
        v.strip_suffix('s')
            .and_then(|s| s.parse().ok())
            .expect("seconds like 5s")
    };
    assert!(
        Duration::from_secs(seconds("timeout")) > oneonone::http::probe::PROBE_TIMEOUT,
        "Docker would kill the probe before it reports"
    );
    assert!(seconds("start-period") >= 10);
    let help = oneonone(&["healthcheck", "--help"]);
    let timeout = format!("timeout ({} s)", oneonone::http::probe::PROBE_TIMEOUT.as_secs());
    assert!(
        String::from_utf8_lossy(&help.stdout).contains(&timeout),
        "`healthcheck --help` states the probe's {timeout}"
    );
}

/// `.dockerignore` patterns in order, `!` re-including, as Docker reads them.
fn dockerignore() -> Vec<String> {
    read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Whether Docker leaves `path` (relative, `/`-separated) out of the build
/// context: the last matching pattern decides; a pattern that matches a
/// directory leaves out everything below it; `*` stays within one segment,
/// `**` spans any number of them.
fn ignored(path: &str, patterns: &[String]) -> bool {
    let path: Vec<&str> = path.split('/').collect();
    let mut ignored = false;
    for pattern in patterns {
        let (include, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern.as_str()),
        };
        let pattern: Vec<&str> = pattern.trim_matches('/').split('/').collect();
        if matches_or_below(&pattern, &path) {
            ignored = !include;
        }
    }
    ignored
}

fn matches_or_below(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => true,
        Some((&"**", rest)) => (0..=path.len()).any(|skip| matches_or_below(rest, &path[skip..])),
        Some((segment, rest)) => match path.split_first() {
            Some((name, below)) => glob(segment, name) && matches_or_below(rest, below),
            None => false,
        },
    }
}

fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.starts_with(head) && {
                let rest = &name[head.len()..];
                rest.char_indices()
                    .map(|(i, _)| i)
                    .chain([rest.len()])
                    .any(|i| glob(tail, &rest[i..]))
            }
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A source file without its tests: `#[cfg(test)] mod x;` declarations are
/// dropped, and an inline `#[cfg(test)]` module ends the file (house style:
/// the test module comes last).
fn outside_tests(text: &str) -> String {
    let mut code = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        code.push_str(&rest[..at]);
        let after = rest[at + "#[cfg(test)]".len()..].trim_start();
        let declaration = after.split_once(';').filter(|(item, _)| {
            let words: Vec<&str> = item.split_whitespace().collect();
            matches!(
                words.as_slice(),
                ["mod", _] | ["pub", "mod", _] | ["pub(crate)", "mod", _]
            )
        });
        match declaration {
            Some((_, tail)) => rest = tail,
            None => return code,
        }
    }
    code.push_str(rest);
    code
}

/// Every file or folder the release build embeds: `include_str!`,
/// `include_bytes!` (relative to their file) and `sqlx::migrate!` (relative to
/// the crate), outside the tests.
fn embedded_paths() -> BTreeSet<String> {
    let root = repo().canonicalize().expect("the crate root");
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut found = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a source file");
        let code = outside_tests(&text);
        for (mac, base) in [
            ("include_str!(\"", file.parent().expect("a folder")),
            ("include_bytes!(\"", file.parent().expect("a folder")),
            ("migrate!(\"", root.as_path()),
        ] {
            for piece in code.split(mac).skip(1) {
                let rel = piece.split('"').next().unwrap_or_default();
                let path = base
                    .join(rel)
                    .canonicalize()
                    .unwrap_or_else(|e| panic!("{}: {rel}: {e}", file.display()));
                let path = path.strip_prefix(&root).expect("inside the crate");
                found.insert(path.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found
}

#[test]
fn the_image_build_copies_everything_the_compiler_embeds_and_dockerignore_keeps_it() {
    let patterns = dockerignore();
    // The matcher itself, on the cases that matter.
    for (path, left_out) in [
        ("target/release/oneonone", true),
        ("tests/cards/node_modules/x.js", true),
        ("oneonone.db", true),
        ("data/oneonone.db-wal", true),
        (".git/HEAD", true),
        ("src/main.rs", false),
        ("migrations/sqlite/0001_init.sql", false),
        ("Cargo.lock", false),
    ] {
        assert_eq!(ignored(path, &patterns), left_out, "{path}");
    }
    assert!(!ignored("a/b", &["a".into(), "!a/b".into()]));
    assert!(ignored("x/y/z.db", &["**/*.db".into()]));

    let instructions = dockerfile();
    let copied: Vec<String> = instructions
        .iter()
        .filter(|i| i.keyword == "COPY" && !i.flags.contains_key("from"))
        .flat_map(|i| {
            let words = i.words();
            words[..words.len() - 1]
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for source in &copied {
        assert!(repo().join(source).exists(), "COPY {source}: no such file");
        assert!(!ignored(source, &patterns), "COPY {source}: left out by .dockerignore");
    }
    for needed in ["Cargo.toml", "Cargo.lock", "src"] {
        assert!(copied.iter().any(|c| c == needed), "{needed} is not copied");
    }
    // Files Cargo reads when they exist (.cargo/config.toml does: the SQLite build flags).
    for cargo_reads in [
        "build.rs",
        ".cargo/config.toml",
        "rust-toolchain.toml",
        "rust-toolchain",
    ] {
        if repo().join(cargo_reads).exists() {
            assert!(copied.iter().any(|c| c == cargo_reads), "{cargo_reads} is not copied");
        }
    }
    let embedded = embedded_paths();
    assert!(embedded.contains("migrations/sqlite") && embedded.contains("migrations/postgres"));
    for path in &embedded {
        assert!(
            copied
                .iter()
                .any(|c| path == c || path.starts_with(&format!("{}/", c.trim_end_matches('/')))),
            "the build embeds {path}, which no COPY brings in"
        );
        assert!(
            !ignored(path, &patterns),
            "the build embeds {path}, left out by .dockerignore"
        );
    }
}

// ================================================================ healthcheck

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn healthcheck(args: &[&str], listen: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.arg("healthcheck").args(args).env_clear();
    if let Some(listen) = listen {
        command.env("ONEONONE_LISTEN", listen);
    }
    command.output().expect("run oneonone healthcheck")
}

fn one_line_error(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && !err.contains("panicked"), "{err}");
    err
}

/// Kills the child when the test ends, passed or not.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_healthcheck_passes_against_a_running_server_and_fails_otherwise() {
    // A fresh SQLite file, created and migrated by `serve`, as in the image.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("oneonone.db").display());
    let port = free_port();
    let _server = Running(
        Command::new(BIN)
            .args(["serve", "--no-scheduler"])
            .env_clear()
            .env("DATABASE_URL", &url)
            .env("ONEONONE_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("start oneonone serve"),
    );
    let healthz = format!("http://127.0.0.1:{port}/healthz");
    let started = Instant::now();
    let up = loop {
        let out = healthcheck(&["--url", &healthz], None);
        if out.status.success() {
            break out;
        }
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve never came up: {out:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        String::from_utf8_lossy(&up.stdout).trim(),
        format!("GET {healthz}: 200 OK")
    );

    // Without --url: /healthz at ONEONONE_LISTEN, on loopback when it is every address.
    for listen in [format!("0.0.0.0:{port}"), format!("127.0.0.1:{port}")] {
        let out = healthcheck(&[], Some(&listen));
        assert!(out.status.success(), "{listen}: {out:?}");
    }

    // Anything but a 2xx is unhealthy.
    let out = healthcheck(&["--url", &format!("http://127.0.0.1:{port}/no-such-route")], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line_error(&out).contains("404"));

    // Nobody listening.
    let closed = free_port();
    let out = healthcheck(&[], Some(&format!("0.0.0.0:{closed}")));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        one_line_error(&out).contains(&format!("GET http://127.0.0.1:{closed}/healthz: no answer")),
        "{out:?}"
    );

    // Connected, but no answer: the probe gives up after its timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    let started = Instant::now();
    let out = healthcheck(&["--url", &format!("http://127.0.0.1:{silent_port}/healthz")], None);
    assert_eq!(out.status.code(), Some(1));
    one_line_error(&out);
    let waited = started.elapsed();
    assert!(
        waited >= oneonone::http::probe::PROBE_TIMEOUT && waited < oneonone::http::probe::PROBE_TIMEOUT * 3,
        "{waited:?}"
    );
    drop(silent);

    // A malformed listen address names its variable.
    let out = healthcheck(&[], Some("nope"));
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line_error(&out).contains("ONEONONE_LISTEN"));
}

// ================================================================ Kubernetes

const KUBE: &str = "manifests/kubernetes";

/// Not in kustomization.yaml, on purpose (each says why in its comments).
const APPLIED_ON_THEIR_OWN: [&str; 2] = ["secret.example.yaml", "migrate-job.yaml"];

/// Every YAML document under `manifests/kubernetes/`, with its file name.
fn manifests() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(KUBE))
        .expect("manifests/kubernetes")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let name = file.file_name().and_then(|n| n.to_str()).expect("a name").to_string();
        let text = std::fs::read_to_string(&file).expect("read a manifest");
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let yaml = serde_yaml_ng::Value::deserialize(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            if !yaml.is_null() {
                docs.push((name.clone(), serde_json::to_value(yaml).expect("YAML as JSON")));
            }
        }
    }
    assert!(docs.len() >= 8, "{docs:?}");
    docs
}

fn of_kind<'a>(docs: &'a [(String, Value)], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|(_, d)| d["kind"] == kind).map(|(_, d)| d).collect()
}

fn the<'a>(docs: &'a [(String, Value)], kind: &str) -> &'a Value {
    let found = of_kind(docs, kind);
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

/// The pod template of every workload: (kind, template).
fn pod_templates(docs: &[(String, Value)]) -> Vec<(String, &Value)> {
    docs.iter()
        .filter_map(|(_, d)| {
            let template = match d["kind"].as_str()? {
                "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => &d["spec"]["template"],
                "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"],
                _ => return None,
            };
            Some((d["kind"].as_str()?.to_string(), template))
        })
        .collect()
}

fn containers(template: &Value) -> Vec<&Value> {
    let spec = &template["spec"];
    let mut all: Vec<&Value> = Vec::new();
    for key in ["initContainers", "containers"] {
        if let Some(list) = spec[key].as_array() {
            all.extend(list);
        }
    }
    all
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The keys and values of a ConfigMap (`data`) or a Secret (`stringData`;
/// a Secret's `data` is base64, and only its keys are checked).
fn entries(doc: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let base64 = doc["kind"] == "Secret";
    for (key, readable) in [("data", !base64), ("stringData", true)] {
        for (k, v) in doc[key].as_object().into_iter().flatten() {
            let v = match v {
                _ if !readable => continue,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.insert(k.clone(), v);
        }
    }
    out
}

fn keys(doc: &Value) -> Vec<String> {
    ["data", "stringData"]
        .iter()
        .flat_map(|key| doc[*key].as_object().into_iter().flatten())
        .map(|(k, _)| k.clone())
        .collect()
}

/// What `serve` would make of these settings, through the same clap definition.
fn accepted(values: &BTreeMap<String, String>) -> Result<config::Config, String> {
    use clap::{Args, FromArgMatches};
    let serve = RawConfig::augment_args(clap::Command::new("serve")).no_binary_name(true);
    let argv: Vec<String> = serve
        .get_arguments()
        .filter_map(|arg| {
            let env = arg.get_env()?.to_string_lossy().into_owned();
            let value = values.get(&env)?;
            Some(format!("--{}={value}", arg.get_long()?))
        })
        .collect();
    let matches = serve.try_get_matches_from(argv).map_err(|e| e.to_string())?;
    let raw = RawConfig::from_arg_matches(&matches).map_err(|e| e.to_string())?;
    raw.into_config().map_err(|e| e.to_string())
}

fn container_port(container: &Value) -> (String, u16) {
    let port = &container["ports"][0];
    let number = port["containerPort"].as_u64().expect("containerPort");
    (
        port["name"].as_str().unwrap_or_default().to_string(),
        u16::try_from(number).expect("a port"),
    )
}

#[test]
fn every_variable_the_manifests_set_is_a_real_setting_and_the_examples_are_accepted() {
    let docs = manifests();
    let mut sources: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    for kind in ["ConfigMap", "Secret"] {
        for doc in of_kind(&docs, kind) {
            let values = entries(doc);
            for var in keys(doc) {
                assert!(is_setting(&var), "{kind} key {var} is not a setting");
            }
            let name = doc["metadata"]["name"].as_str().expect("a name").to_string();
            sources.insert((kind.to_string(), name), values);
        }
    }
    let templates = pod_templates(&docs);
    assert!(templates.len() >= 2, "the Deployment and the migrate Job");
    for (kind, template) in &templates {
        for container in containers(template) {
            let mut values = BTreeMap::new();
            for from in container["envFrom"].as_array().into_iter().flatten() {
                let (source, reference) = match (&from["configMapRef"], &from["secretRef"]) {
                    (r, _) if r.is_object() => ("ConfigMap", r),
                    (_, r) if r.is_object() => ("Secret", r),
                    _ => panic!("{kind}: envFrom without a configMapRef or secretRef"),
                };
                let name = reference["name"].as_str().expect("a name").to_string();
                let found = sources
                    .get(&(source.to_string(), name.clone()))
                    .unwrap_or_else(|| panic!("{kind}: envFrom {source} {name}, which no manifest defines"));
                values.extend(found.clone());
            }
            for env in container["env"].as_array().into_iter().flatten() {
                let var = env["name"].as_str().expect("env name");
                assert!(is_setting(var), "{kind} sets {var}, which is not a setting");
                if let Some(v) = env["value"].as_str() {
                    values.insert(var.to_string(), v.to_string());
                }
            }
            // The settings a pod gets, the example Secret's placeholders
            // included, are accepted by `serve` as they are.
            let config = accepted(&values).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert!(
                config.database_url.starts_with("postgres"),
                "several replicas need PostgreSQL, not {}",
                config.database_url
            );
            assert!(
                config.slack.is_some() && config.teams.is_some(),
                "both platforms in the example"
            );
            assert_eq!(config.listen.port(), default_port());
            if let Some(filter) = values.get("RUST_LOG") {
                tracing_subscriber::EnvFilter::try_new(filter).expect("RUST_LOG is a valid filter");
            }
        }
    }
    // A made-up variable would be caught.
    assert!(!is_setting("ONEONONE_NO_SUCH_SETTING"));
}

#[test]
fn the_kubernetes_commands_are_real_subcommands_of_the_image_on_the_default_port() {
    let docs = manifests();
    let entry = entrypoint();
    let mut images = BTreeSet::new();
    let mut serves = false;
    for (kind, template) in pod_templates(&docs) {
        for container in containers(template) {
            images.insert(container["image"].as_str().expect("an image").to_string());
            let command = strings(&container["command"]);
            assert!(
                command.is_empty() || command == entry,
                "{kind}: command {command:?} is not the image's entrypoint"
            );
            let args = strings(&container["args"]);
            assert!(!args.is_empty(), "{kind}: args name the subcommand");
            assert_subcommand(&args);
            if kind == "Deployment" {
                serves |= args[0] == "serve";
                assert_eq!(container_port(container).1, default_port(), "{kind}: containerPort");
            }
        }
    }
    assert!(serves, "the Deployment runs `serve`");
    assert_eq!(images.len(), 1, "one image for every workload: {images:?}");
}

#[test]
fn the_kubernetes_pods_run_unprivileged_on_a_read_only_root_with_resources_and_time_to_stop() {
    let docs = manifests();
    let uid = image_uid();
    for (kind, template) in pod_templates(&docs) {
        let pod = &template["spec"]["securityContext"];
        for container in containers(template) {
            let own = &container["securityContext"];
            let effective = |key: &str| match &own[key] {
                Value::Null => pod[key].clone(),
                v => v.clone(),
            };
            assert_eq!(effective("runAsNonRoot"), true, "{kind}: runAsNonRoot");
            assert_eq!(effective("runAsUser"), uid, "{kind}: runAsUser is the image's USER");
            assert_eq!(own["readOnlyRootFilesystem"], true, "{kind}: readOnlyRootFilesystem");
            assert_eq!(
                own["allowPrivilegeEscalation"], false,
                "{kind}: allowPrivilegeEscalation"
            );
            assert!(
                strings(&own["capabilities"]["drop"]).contains(&"ALL".to_string()),
                "{kind}: drop ALL capabilities"
            );
            for bound in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    assert!(
                        !container["resources"][bound][resource].is_null(),
                        "{kind}: resources.{bound}.{resource}"
                    );
                }
            }
        }
    }

    // SIGTERM: the preStop pause comes first; then the app finishes requests,
    // their after-answer work and the scheduler within SHUTDOWN_GRACE of the
    // signal. Twice that leaves room for closing the pool and a slow node.
    let deployment = the(&docs, "Deployment");
    let spec = &deployment["spec"]["template"]["spec"];
    let grace = spec["terminationGracePeriodSeconds"]
        .as_u64()
        .expect("terminationGracePeriodSeconds");
    let pause: u64 = containers(&deployment["spec"]["template"])
        .iter()
        .filter_map(|c| c["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64())
        .max()
        .unwrap_or(0);
    let needed = pause + 2 * oneonone::app::SHUTDOWN_GRACE.as_secs();
    assert!(grace > needed, "terminationGracePeriodSeconds {grace} ≤ {needed}");
}

#[test]
fn the_service_autoscaler_disruption_budget_and_kustomization_fit_the_deployment() {
    let docs = manifests();
    let deployment = the(&docs, "Deployment");
    let name = deployment["metadata"]["name"].as_str().expect("a name");
    let pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .expect("pod labels");
    let selects = |selector: &Value| {
        let selector = selector.as_object().expect("a selector");
        !selector.is_empty() && selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v))
    };
    assert!(selects(&deployment["spec"]["selector"]["matchLabels"]));
    assert!(
        deployment["spec"]["replicas"].is_null(),
        "the autoscaler owns the replica count"
    );
    let container = containers(&deployment["spec"]["template"])[0];
    let (port_name, port) = container_port(container);

    let service = the(&docs, "Service");
    assert!(selects(&service["spec"]["selector"]), "the Service selects the pods");
    let target = &service["spec"]["ports"][0]["targetPort"];
    assert!(*target == port_name.as_str() || *target == port, "targetPort {target}");
    // Not the migrate Job's pod: it serves nothing.
    let job = the(&docs, "Job");
    let job_labels = job["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .expect("job pod labels");
    let service_selector = service["spec"]["selector"].as_object().expect("selector");
    assert!(!service_selector.iter().all(|(k, v)| job_labels.get(k) == Some(v)));

    // Every probe is on the container's port.
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        let on = &container[probe]["httpGet"]["port"];
        if !on.is_null() {
            assert!(*on == port_name.as_str() || *on == port, "{probe} port {on}");
        }
    }
    assert!(!container["livenessProbe"].is_null() && !container["readinessProbe"].is_null());

    let hpa = the(&docs, "HorizontalPodAutoscaler");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], name);
    let min = hpa["spec"]["minReplicas"].as_u64().expect("minReplicas");
    assert!(min >= 2 && hpa["spec"]["maxReplicas"].as_u64() >= Some(min));

    let pdb = the(&docs, "PodDisruptionBudget");
    assert_eq!(pdb["apiVersion"], "policy/v1");
    assert!(selects(&pdb["spec"]["selector"]["matchLabels"]));
    let available = pdb["spec"]["minAvailable"].as_u64().expect("minAvailable as a number");
    assert!(available >= 1 && available < min, "a drain can always evict one pod");

    // kustomization.yaml lists every long-lived file; the others say why they are not.
    let kustomization = the(&docs, "Kustomization");
    let listed = strings(&kustomization["resources"]);
    for file in &listed {
        assert!(repo().join(KUBE).join(file).exists(), "kustomization lists {file}");
    }
    let text = read(&format!("{KUBE}/kustomization.yaml"));
    for (file, doc) in &docs {
        if file == "kustomization.yaml" {
            continue;
        }
        if APPLIED_ON_THEIR_OWN.contains(&file.as_str()) {
            assert!(!listed.contains(file), "{file} is applied on its own");
            assert!(
                text.contains(file.as_str()),
                "kustomization.yaml says why {file} is not listed"
            );
        } else {
            assert!(
                listed.contains(file),
                "{file} ({}) is not in kustomization.yaml",
                doc["kind"]
            );
        }
    }
}

/// Every probe path of every workload, answered by the app as it runs.
async fn probes_answer_on(db: oneonone::store::Db) {
    let docs = manifests();
    let mut paths = BTreeSet::new();
    for (_, template) in pod_templates(&docs) {
        for container in containers(template) {
            for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
                if let Some(path) = container[probe]["httpGet"]["path"].as_str() {
                    paths.insert(path.to_string());
                }
            }
        }
    }
    assert!(paths.contains("/healthz") && paths.contains("/readyz"), "{paths:?}");

    let config = RawConfig {
        listen: Some("127.0.0.1:0".into()),
        no_scheduler: true,
        ..RawConfig::default()
    }
    .into_config()
    .expect("a config");
    let app = oneonone::app::App::with_db(config, db, oneonone::clock::Clock::system())
        .await
        .expect("the app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    oneonone::teams::connector::install_crypto_provider();
    let http = reqwest::Client::builder().no_proxy().build().expect("a client");
    let status = |path: String| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move { http.get(&url).send().await.expect("an answer").status() }
    };
    // The check can fail: a path the app does not serve is a 404.
    assert_eq!(status("/no-such-probe".into()).await, 404);
    for path in paths {
        let answer = status(path.clone()).await;
        // What Kubernetes counts as a passing HTTP probe.
        assert!((200..400).contains(&answer.as_u16()), "{path}: {answer}");
    }
    let _ = stop.send(());
    server.await.expect("the server task").expect("a clean stop");
}

#[tokio::test]
async fn the_kubernetes_probes_are_real_routes_that_pass_on_sqlite() {
    probes_answer_on(oneonone::store::testing::fresh_sqlite().await).await;
}

#[tokio::test]
async fn the_kubernetes_probes_are_real_routes_that_pass_on_postgresql() {
    let Some(db) = oneonone::store::testing::fresh_postgres().await else {
        return;
    };
    probes_answer_on(db).await;
}
