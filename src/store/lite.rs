//! SQLite reads on the caller's thread, and writes on one writer thread.
//!
//! sqlx runs each SQLite connection on a thread of its own, so every query is
//! a message to that thread and every row a message back: two or more
//! cross-thread wake-ups per statement, which the load generator's profile
//! showed to be most of a request's cost (BENCHMARKS.md). A read of an
//! indexed row takes SQLite a few microseconds, far less than waking a
//! thread; so reads run here, inline, on connections of our own to the same
//! file (WAL: readers never wait for the writer), with their statements
//! prepared once per connection.
//!
//! Writes of the hot paths go to one writer thread (`Writer`) as closures:
//! one hand-off per write instead of per statement, no busy-waiting between
//! our own connections for SQLite's one write lock, and under load many
//! writes share one transaction (group commit), each in a savepoint of its
//! own so one failing write does not undo the others. Answers are handed
//! back only after the commit, so a caller always reads its own write.
//! Transactions that read and then write (the scheduler's claims, erasure)
//! stay on sqlx; the writer waits for their lock like any other connection.
//!
//! The same bundled SQLite library serves both (rusqlite and sqlx link one
//! `libsqlite3-sys`), so SQLite's own file locking sees every connection.

use super::{Result, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, ToSql};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Connections kept open between reads; more are opened when more threads
/// read at once, and closed again when they come back to a full stack.
const KEEP_IDLE: usize = 8;
/// Page cache of a reader connection: 2 MiB, SQLite's default (negative:
/// KiB). With 256 KiB the agendas of a hundred 1:1s did not fit and each
/// `agenda` read two pages from the OS (`pread`, measured with strace);
/// a write elsewhere still empties the cache (WAL), so under writes it stays small.
const READER_CACHE_KIB: i64 = -2048;
/// The checkpointer's page cache: 256 KiB (a checkpoint copies pages past it).
const CHECKPOINTER_CACHE_KIB: i64 = -256;
/// Prepared statements kept per connection: every read of the product fits.
const STATEMENTS_PER_CONNECTION: usize = 128;

/// Read-only connections to one SQLite file.
#[derive(Debug)]
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
}

impl Readers {
    pub fn new(path: PathBuf) -> Readers {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = open(&self.path)?;
        // These connections only read; every write elsewhere empties their
        // page caches (WAL), so they fill only while reads repeat.
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", READER_CACHE_KIB)?;
        Ok(conn)
    }

    /// Runs `f` on an idle connection (or a new one) on this thread.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let taken = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open()?,
        };
        let out = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < KEEP_IDLE && !self.closed.load(Ordering::Acquire) {
            idle.push(conn);
        }
        Ok(out?)
    }

    /// Runs `f` in one read transaction: its statements see one snapshot and
    /// share one lock and one page cache (each read on its own takes SQLite's
    /// file and WAL-index locks, and after a write elsewhere reads its pages again).
    pub fn snapshot<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        self.read(|c| {
            // `exec`, not `unchecked_transaction`, which parses its `BEGIN` every time.
            exec(c, "begin")?;
            let out = f(c).and_then(|out| exec(c, "commit").map(|_| out));
            if out.is_err() && !c.is_autocommit() {
                // Never hand a connection back inside a transaction. The
                // read's own error is the one to report.
                let _ = exec(c, "rollback");
            }
            out
        })
    }

    /// Closes the idle connections; later reads fail as the pool's do.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// A connection to the file sqlx created and migrated, set up as sqlx's are.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "normal")?;
    conn.set_prepared_statement_cache_capacity(STATEMENTS_PER_CONNECTION);
    Ok(conn)
}

/// Writes handled in one transaction at most.
const MAX_BATCH: usize = 256;

/// One write waiting for the writer thread.
trait Job: Send {
    /// Runs the write inside the batch's transaction; `false` if it failed
    /// (its savepoint is then rolled back).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Hands the answer back once the batch is committed, or the error that
    /// undid it.
    fn finish(self: Box<Self>, undone: Option<&rusqlite::Error>);
}

struct Call<T, F> {
    work: Option<F>,
    out: Option<rusqlite::Result<T>>,
    reply: tokio::sync::oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Call<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else { return false };
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(conn)))
            .unwrap_or_else(|_| Err(failure("a write panicked")));
        let ok = out.is_ok();
        self.out = Some(out);
        ok
    }

    fn finish(self: Box<Self>, undone: Option<&rusqlite::Error>) {
        let answer = match (undone, self.out) {
            (Some(e), _) => Err(StoreError::Lite(copy_error(e))),
            (None, Some(out)) => out.map_err(StoreError::Lite),
            (None, None) => Err(StoreError::Lite(failure("the write never ran"))),
        };
        // The caller may have stopped waiting (a dropped request): fine.
        let _ = self.reply.send(answer);
    }
}

fn failure(message: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
        Some(message.to_string()),
    )
}

/// One error told to every write of an undone batch.
fn copy_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => rusqlite::Error::SqliteFailure(*code, message.clone()),
        other => failure(&other.to_string()),
    }
}

/// The writer thread's queue.
#[derive(Debug)]
pub struct Writer {
    queue: Mutex<Option<mpsc::Sender<Box<dyn Job>>>>,
}

impl Writer {
    /// Opens the writer's connection and starts its thread.
    pub fn start(path: &Path) -> Result<Writer> {
        let conn = open(path)?;
        // Checkpoints are the checkpointer thread's; the writer's own
        // automatic one is only a bound on the log's size.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_BOUND_PAGES)?;
        let checkpointer = {
            let conn = open(path)?;
            // A checkpoint copies pages without its page cache.
            conn.pragma_update(None, "cache_size", CHECKPOINTER_CACHE_KIB)?;
            Checkpointer::start(conn)?
        };
        let (queue, jobs) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            // The checkpointer stops when the writer does (its `Drop`).
            .spawn(move || write_loop(&conn, &jobs, &checkpointer))
            .map_err(|e| StoreError::Lite(failure(&format!("cannot start the writer thread: {e}"))))?;
        Ok(Writer {
            queue: Mutex::new(Some(queue)),
        })
    }

    /// Runs `work` on the writer thread inside a transaction; answers once
    /// it is committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Box<dyn Job> = Box::new(Call {
            work: Some(work),
            out: None,
            reply,
        });
        {
            let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            let sent = queue.as_ref().map(|q| q.send(job));
            if !matches!(sent, Some(Ok(()))) {
                return Err(StoreError::Closed);
            }
        }
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Lets the thread finish what is queued, then stop.
    pub fn close(&self) {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

fn write_loop(conn: &Connection, jobs: &mpsc::Receiver<Box<dyn Job>>, checkpointer: &Checkpointer) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let undone = run_batch(conn, &mut batch).err();
        if undone.is_none() {
            checkpointer.nudge();
        }
        for job in batch {
            job.finish(undone.as_ref());
        }
    }
}

/// The log's size (in pages of 4 KiB) at which the writer checkpoints
/// itself: a bound for when the checkpointer cannot keep up.
const WAL_BOUND_PAGES: i64 = 10_000;
/// How long the checkpointer lets commits gather before a checkpoint.
const CHECKPOINT_SPACING: Duration = Duration::from_millis(50);

/// Copies the write-ahead log back into the database file on a thread of
/// its own. SQLite's automatic checkpoint runs inside the commit that
/// crosses 1,000 pages, with two `fsync`s: every write queued behind it
/// waited, which was most of `add`'s p99 at 1,000 requests a second
/// (BENCHMARKS.md). A passive checkpoint here runs beside the writer
/// (readers and the writer never wait for it), at most once per
/// [`CHECKPOINT_SPACING`] while writes come in, and never while idle.
struct Checkpointer {
    shared: std::sync::Arc<CheckpointState>,
    thread: std::thread::Thread,
}

#[derive(Default)]
struct CheckpointState {
    /// Commits since the last checkpoint began.
    dirty: AtomicBool,
    stop: AtomicBool,
}

impl Checkpointer {
    fn start(conn: Connection) -> Result<Checkpointer> {
        let shared = std::sync::Arc::new(CheckpointState::default());
        let state = shared.clone();
        let handle = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&conn, &state))
            .map_err(|e| StoreError::Lite(failure(&format!("cannot start the checkpoint thread: {e}"))))?;
        Ok(Checkpointer {
            shared,
            thread: handle.thread().clone(),
        })
    }

    /// After a commit: wakes the checkpointer if it is not already due to run.
    fn nudge(&self) {
        if !self.shared.dirty.swap(true, Ordering::AcqRel) {
            self.thread.unpark();
        }
    }
}

impl Drop for Checkpointer {
    /// Ends the thread (after a last checkpoint if commits are pending).
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

fn checkpoint_loop(conn: &Connection, state: &CheckpointState) {
    loop {
        std::thread::park();
        let stopping = state.stop.load(Ordering::Acquire);
        if state.dirty.load(Ordering::Acquire) {
            if !stopping {
                std::thread::sleep(CHECKPOINT_SPACING);
            }
            state.dirty.store(false, Ordering::Release);
            // Passive: copies what no reader still needs, waits for nobody.
            let done = conn.query_row("pragma wal_checkpoint(passive)", [], |r| r.get::<_, i64>(0));
            if let Err(e) = done {
                tracing::warn!(error = %e, "WAL checkpoint failed; the writer's own bound still holds");
            }
        }
        if stopping {
            return;
        }
    }
}

/// Runs a batch in one transaction, each write in a savepoint of its own
/// when there are several. `Err` when the transaction as a whole failed
/// (nothing of it is kept).
fn run_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> rusqlite::Result<()> {
    exec(conn, "begin immediate")?;
    let done = run_jobs(conn, batch).and_then(|keep| exec(conn, if keep { "commit" } else { "rollback" }));
    if done.is_err() && !conn.is_autocommit() {
        let _ = exec(conn, "rollback");
    }
    done
}

/// Runs a statement without parameters, prepared once per connection
/// (`execute_batch` parses its text every time).
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// `Ok(false)` when the batch was one write and it failed: roll it back (a
/// write of several statements may have done part of its work).
fn run_jobs(conn: &Connection, batch: &mut [Box<dyn Job>]) -> rusqlite::Result<bool> {
    if let [job] = batch {
        let ok = job.run(conn);
        if conn.is_autocommit() {
            return Err(failure("the transaction was rolled back"));
        }
        return Ok(ok);
    }
    for job in batch.iter_mut() {
        exec(conn, "savepoint job")?;
        let ok = job.run(conn);
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (a full disk, an I/O
            // error): the writes before this one are gone too.
            return Err(failure("the transaction was rolled back"));
        }
        if !ok {
            exec(conn, "rollback to job")?;
        }
        exec(conn, "release job")?;
    }
    Ok(true)
}

/// Owned copies of a write's arguments, so the write can move to the writer
/// thread.
pub fn owned(args: &[&dyn ToSql]) -> rusqlite::Result<Vec<Value>> {
    args.iter()
        .map(|arg| match arg.to_sql()? {
            rusqlite::types::ToSqlOutput::Borrowed(v) => Ok(Value::try_from(v)?),
            rusqlite::types::ToSqlOutput::Owned(v) => Ok(v),
            _ => Err(failure("unsupported argument")),
        })
        .collect()
}

/// A row type read by the inline path (generated with the row struct by
/// `row!` in `rows.rs`, so its columns are named once).
pub trait FromLite: Sized {
    /// The columns by name, looked up once per statement; empty for
    /// positional types (scalars and tuples).
    const COLUMNS: &'static [&'static str] = &[];
    /// Decodes a row; `at[i]` is the position of `COLUMNS[i]`.
    fn from_lite(row: &rusqlite::Row<'_>, at: &[usize]) -> rusqlite::Result<Self>;
}

/// Single-column answers (`select count(*)`, `select exists …`).
macro_rules! scalar_from_lite {
    ($($t:ty),*) => {$(
        impl FromLite for $t {
            fn from_lite(row: &rusqlite::Row<'_>, _: &[usize]) -> rusqlite::Result<Self> {
                row.get(0)
            }
        }
    )*};
}
scalar_from_lite!(i32, i64, bool, String, Option<i64>, Option<String>, Option<f64>);

/// Tuples of columns, by position (as sqlx decodes tuples).
macro_rules! tuple_from_lite {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: rusqlite::types::FromSql),+> FromLite for ($($t,)+) {
            fn from_lite(row: &rusqlite::Row<'_>, _: &[usize]) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $t>($i)?,)+))
            }
        }
    )*};
}
tuple_from_lite! {
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
}

/// Column positions by statement text and row type: the text's address and
/// length, and `T::COLUMNS`' address (both `'static`, so an address always
/// means the same content).
type Positions = std::collections::HashMap<(usize, usize, usize), std::rc::Rc<[usize]>>;

thread_local! {
    /// [`positions`] already looked up on this thread.
    static POSITIONS: std::cell::RefCell<Positions> = Default::default();
}

/// Where each of `T`'s named columns is in the result of `sql`: looked up by
/// name once per thread, statement and row type (the lookup compares every
/// column's name and was 3 % of the `agenda` profile when done per read).
fn positions<T: FromLite>(rows: &rusqlite::Rows<'_>, sql: &'static str) -> rusqlite::Result<std::rc::Rc<[usize]>> {
    let key = (sql.as_ptr() as usize, sql.len(), T::COLUMNS.as_ptr() as usize);
    if let Some(at) = POSITIONS.with_borrow(|known| known.get(&key).cloned()) {
        return Ok(at);
    }
    let at: std::rc::Rc<[usize]> = match rows.as_ref() {
        Some(st) => T::COLUMNS
            .iter()
            .map(|name| st.column_index(name))
            .collect::<rusqlite::Result<_>>()?,
        None => std::rc::Rc::new([]),
    };
    POSITIONS.with_borrow_mut(|known| known.insert(key, at.clone()));
    Ok(at)
}

/// The rows of a prepared, bound statement (`sql` is its text).
pub fn all<T: FromLite>(mut rows: rusqlite::Rows<'_>, sql: &'static str) -> rusqlite::Result<Vec<T>> {
    let at = positions::<T>(&rows, sql)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(T::from_lite(r, &at)?);
    }
    Ok(out)
}

/// The first row, if any.
pub fn optional<T: FromLite>(mut rows: rusqlite::Rows<'_>, sql: &'static str) -> rusqlite::Result<Option<T>> {
    let at = positions::<T>(&rows, sql)?;
    rows.next()?.map(|r| T::from_lite(r, &at)).transpose()
}

/// Exactly one row (as sqlx's `fetch_one`: none is an error).
pub fn one<T: FromLite>(rows: rusqlite::Rows<'_>, sql: &'static str) -> rusqlite::Result<T> {
    optional(rows, sql)?.ok_or_else(|| rusqlite::Error::QueryReturnedNoRows)
}

/// Binds `args` to a statement's `$1`, `$2`, … by their numbers, as sqlx
/// does (SQLite itself numbers `$n` parameters in order of appearance).
pub fn bind<A: ToSql>(st: &mut rusqlite::Statement<'_>, args: &[A]) -> rusqlite::Result<()> {
    for index in 1..=st.parameter_count() {
        let number = match st.parameter_name(index) {
            Some(name) => name[1..]
                .parse::<usize>()
                .map_err(|_| rusqlite::Error::InvalidParameterName(name.to_string()))?,
            None => index,
        };
        let arg = args
            .get(number.wrapping_sub(1))
            .ok_or_else(|| rusqlite::Error::InvalidParameterCount(number, args.len()))?;
        st.raw_bind_parameter(index, arg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lite.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("pragma journal_mode = wal; create table t (k text primary key, v integer not null)")
            .unwrap();
        (dir, path)
    }

    fn insert(k: &str, v: i64) -> impl FnOnce(&Connection) -> rusqlite::Result<usize> + Send + 'static {
        let k = k.to_string();
        move |c| c.execute("insert into t (k, v) values (?1, ?2)", (k, v))
    }

    fn rows(path: &Path) -> Vec<(String, i64)> {
        let readers = Readers::new(path.to_path_buf());
        const Q: &str = "select k, v from t order by k";
        readers
            .read(|c| {
                let mut st = c.prepare(Q)?;
                all(st.raw_query(), Q)
            })
            .unwrap()
    }

    #[tokio::test]
    async fn the_log_is_checkpointed_beside_the_writer_soon_after_a_commit() {
        let (_dir, path) = table();
        let writer = Writer::start(&path).unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        // About 400 KiB in one commit: far below the writer's own bound
        // (WAL_BOUND_PAGES), so only the checkpointer copies it back.
        writer
            .write(|c| {
                for i in 0..100 {
                    c.execute(
                        "insert into t (k, v) values (?1, ?2)",
                        (format!("{i:04}{}", "x".repeat(4000)), i),
                    )?;
                }
                Ok(())
            })
            .await
            .unwrap();
        assert!(size() < before + 100_000, "copied back inside the commit");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while size() < before + 400_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "never checkpointed: {} bytes",
                size()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(rows(&path).len(), 100);
    }

    #[test]
    fn a_failed_snapshot_leaves_its_connection_out_of_the_transaction() {
        let (_dir, path) = table();
        let readers = Readers::new(path);
        const Q: &str = "select v from t where k = $1";
        let failed: Result<i64> = readers.snapshot(|c| {
            let mut st = c.prepare_cached(Q)?;
            bind(&mut st, &["missing"])?;
            one(st.raw_query(), Q)
        });
        assert!(
            matches!(failed, Err(StoreError::Lite(rusqlite::Error::QueryReturnedNoRows))),
            "{failed:?}"
        );
        // The same (only) idle connection is used again: its `begin` would
        // fail inside a transaction left open.
        let n: i64 = readers
            .snapshot(|c| c.query_row("select count(*) from t", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(n, 0);
        readers
            .read(|c| {
                assert!(c.is_autocommit());
                Ok(())
            })
            .unwrap();
    }

    #[tokio::test]
    async fn concurrent_writes_share_transactions_but_not_each_others_failures() {
        let (_dir, path) = table();
        let writer = std::sync::Arc::new(Writer::start(&path).unwrap());
        // 200 writes queued at once: the writer takes them in batches. Every
        // fourth writes a row of its own and then clashes with an earlier
        // key: its savepoint alone is undone, its own row with it.
        let writes: Vec<_> = (0..200)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    if i % 4 == 3 {
                        let (own, clash) = (insert(&format!("own{i:03}"), i), insert(&format!("k{:03}", i - 1), i));
                        writer.write(move |c| own(c).and_then(|_| clash(c))).await
                    } else {
                        writer.write(insert(&format!("k{i:03}"), i)).await
                    }
                })
            })
            .collect();
        let mut answers = Vec::new();
        for w in writes {
            answers.push(w.await.unwrap());
        }
        for (i, answer) in answers.iter().enumerate() {
            if i % 4 == 3 {
                let code = match answer {
                    Err(StoreError::Lite(e)) => e.sqlite_error().map(|f| f.extended_code),
                    _ => None,
                };
                assert_eq!(
                    code,
                    Some(rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY),
                    "write {i}: {answer:?}"
                );
            } else {
                assert_eq!(answer.as_ref().unwrap(), &1, "write {i}");
            }
        }
        let kept = rows(&path);
        assert_eq!(kept.len(), 150);
        assert!(
            kept.iter().all(|(k, v)| k == &format!("k{v:03}")),
            "no clashing value was kept"
        );
    }

    #[tokio::test]
    async fn an_answer_comes_after_the_commit_so_any_connection_reads_the_write() {
        let (_dir, path) = table();
        let writer = Writer::start(&path).unwrap();
        for i in 0..20 {
            writer.write(insert(&format!("k{i:02}"), i)).await.unwrap();
            assert_eq!(rows(&path).len(), usize::try_from(i + 1).unwrap());
        }
    }

    #[tokio::test]
    async fn a_write_that_fails_halfway_leaves_nothing_even_alone_in_its_transaction() {
        let (_dir, path) = table();
        let writer = Writer::start(&path).unwrap();
        writer.write(insert("taken", 1)).await.unwrap();
        let (own, clash) = (insert("own", 2), insert("taken", 2));
        let failed = writer.write(move |c| own(c).and_then(|_| clash(c))).await;
        assert!(matches!(failed, Err(StoreError::Lite(_))), "{failed:?}");
        assert_eq!(rows(&path), vec![("taken".to_string(), 1)]);
    }

    #[tokio::test]
    async fn a_panicking_write_is_an_error_and_the_writer_goes_on() {
        let (_dir, path) = table();
        let writer = Writer::start(&path).unwrap();
        let bad = writer.write(|_c: &Connection| -> rusqlite::Result<()> { panic!("a bug in a write") });
        assert!(matches!(bad.await, Err(StoreError::Lite(_))));
        writer.write(insert("after", 1)).await.unwrap();
        assert_eq!(rows(&path), vec![("after".to_string(), 1)]);
    }

    #[tokio::test]
    async fn after_close_writes_and_reads_are_refused() {
        let (_dir, path) = table();
        let writer = Writer::start(&path).unwrap();
        let readers = Readers::new(path.clone());
        writer.close();
        readers.close();
        assert!(matches!(writer.write(insert("k", 1)).await, Err(StoreError::Closed)));
        assert!(matches!(readers.read(|_| Ok(())), Err(StoreError::Closed)));
    }

    #[test]
    fn reader_connections_cannot_write() {
        let (_dir, path) = table();
        let readers = Readers::new(path);
        let refused = readers.read(|c| c.execute("insert into t (k, v) values ('x', 1)", ()));
        assert!(refused.is_err());
    }

    #[test]
    fn sqlite_is_built_without_the_process_wide_page_cache_and_memory_statistics() {
        // `.cargo/config.toml` (LIBSQLITE3_FLAGS): both took global mutexes
        // that concurrent reads queued on (BENCHMARKS.md).
        let c = Connection::open_in_memory().unwrap();
        let mut st = c.prepare("pragma compile_options").unwrap();
        let options: Vec<String> = all(st.raw_query(), "pragma compile_options").unwrap();
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
    }

    #[test]
    fn arguments_bind_by_their_number_not_their_order_of_appearance() {
        let c = Connection::open_in_memory().unwrap();
        const Q: &str = "select $2 || '-' || $1 || '-' || $2";
        let mut st = c.prepare(Q).unwrap();
        bind(&mut st, &[&"a", &"b"]).unwrap();
        let got: String = one(st.raw_query(), Q).unwrap();
        assert_eq!(got, "b-a-b");
    }

    #[derive(Debug, PartialEq)]
    struct Kv {
        k: String,
        v: i64,
    }

    impl FromLite for Kv {
        const COLUMNS: &'static [&'static str] = &["k", "v"];
        fn from_lite(row: &rusqlite::Row<'_>, at: &[usize]) -> rusqlite::Result<Self> {
            Ok(Kv {
                k: row.get(at[0])?,
                v: row.get(at[1])?,
            })
        }
    }

    #[test]
    fn columns_are_found_by_name_for_each_statement_and_remembered() {
        let c = Connection::open_in_memory().unwrap();
        const KV: &str = "select 'a' as k, 1 as v";
        const VK: &str = "select 2 as v, 'b' as k";
        // Twice each, so the second read of each uses the remembered positions.
        for _ in 0..2 {
            for (q, want) in [(KV, ("a", 1)), (VK, ("b", 2))] {
                let mut st = c.prepare(q).unwrap();
                let got: Kv = one(st.raw_query(), q).unwrap();
                assert_eq!(
                    got,
                    Kv {
                        k: want.0.into(),
                        v: want.1
                    },
                    "{q}"
                );
            }
        }
        const MISSING: &str = "select 'a' as k";
        let mut st = c.prepare(MISSING).unwrap();
        assert!(
            one::<Kv>(st.raw_query(), MISSING).is_err(),
            "a missing column is an error"
        );
    }
}
