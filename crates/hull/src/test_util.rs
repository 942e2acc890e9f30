//! Helpers for unit tests: scratch directories below the system's temporary directory,
//! removed when dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh, empty directory named after the test, unique in this run and across
/// concurrent runs; removed (with everything in it) when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hull-unit-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("make a scratch directory");
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `rel` below the scratch directory.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.0.join(rel)
    }

    /// Writes `data` at `rel`, making its parent directories.
    pub fn write(&self, rel: impl AsRef<Path>, data: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("make parent directories");
        }
        std::fs::write(&path, data).expect("write a scratch file");
        path
    }

    /// The directory opened as an `O_PATH` descriptor (a root to resolve below).
    pub fn open(&self) -> std::os::fd::OwnedFd {
        Scratch::open_path(&self.0)
    }

    /// Any directory opened as an `O_PATH` descriptor.
    pub fn open_path(dir: &Path) -> std::os::fd::OwnedFd {
        crate::sys::open_path(dir, libc::O_DIRECTORY).expect("open a directory")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
