//! Writing a file where somebody else may have been first: a pid file in a directory
//! shared with a container, the container's state. The data goes to a new file made
//! with `O_CREAT|O_EXCL|O_NOFOLLOW` beside the target, under a name nobody could have
//! planted ahead, which is then renamed over the target. A symlink planted at either
//! name is never followed: at the temporary name `O_EXCL` refuses it (another name is
//! tried), and at the target `rename` replaces the link itself. The directory is the
//! caller's: its path is followed as given.

use std::ffi::{CString, OsStr};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::sys;

/// Replaces `path` with a new file holding `data` (permission bits `mode`, less the
/// umask), atomically: a reader sees the old file or the whole new one.
pub fn replace(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let dir_path = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = sys::openat2_path(
        &c_name(dir_path.as_os_str())?,
        libc::O_PATH | libc::O_DIRECTORY,
        0,
    )?;
    let (tmp, file) = create_temporary(dir.as_fd(), name, mode)?;
    let mut file = std::fs::File::from(file);
    let written = file.write_all(data).and_then(|()| {
        nix::fcntl::renameat(
            Some(dir.as_raw_fd()),
            tmp.as_c_str(),
            Some(dir.as_raw_fd()),
            name,
        )
        .map_err(io::Error::from)
    });
    if written.is_err() {
        let _ = nix::unistd::unlinkat(
            Some(dir.as_raw_fd()),
            tmp.as_c_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
        return written;
    }
    // Renamed by name: what is there now must be the file we wrote (somebody who can
    // write the directory could have swapped the temporary one meanwhile).
    let ours = file.metadata()?;
    let there = nix::sys::stat::fstatat(
        Some(dir.as_raw_fd()),
        name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )?;
    if (there.st_dev, there.st_ino) != (ours.dev(), ours.ino()) {
        return Err(io::Error::other(
            "the file was replaced by somebody else while it was written",
        ));
    }
    Ok(())
}

/// A new file beside `name` in `dir`, under a name of our own: `.<name>.<pid>.<n>`.
fn create_temporary(
    dir: std::os::fd::BorrowedFd<'_>,
    name: &OsStr,
    mode: u32,
) -> io::Result<(CString, std::os::fd::OwnedFd)> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
    let mut last = io::Error::from_raw_os_error(libc::EEXIST);
    for _ in 0..16 {
        let mut tmp = b".".to_vec();
        tmp.extend_from_slice(name.as_bytes());
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        tmp.extend_from_slice(format!(".{}.{n}", std::process::id()).as_bytes());
        let tmp = c_name(OsStr::from_bytes(&tmp))?;
        match sys::openat2(dir, &tmp, flags, mode, 0) {
            Ok(fd) => return Ok((tmp, fd)),
            // Somebody's file (or link) is there already: not ours to touch.
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in the path"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hull-safe-file-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn planted_symlinks_are_replaced_never_followed() {
        let dir = scratch("planted");
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let target = dir.join("pid");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        replace(&target, b"42", 0o644).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!target.is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "42");
        // Only the target is left: no temporary file.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_planted_temporary_name_is_skipped() {
        let dir = scratch("tmp");
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        // Links at the names the next calls could take.
        for n in 0..64 {
            let planted = dir.join(format!(".state.json.{}.{n}", std::process::id()));
            std::os::unix::fs::symlink(&victim, planted).unwrap();
        }
        let target = dir.join("state.json");
        let result = replace(&target, b"{}", 0o600);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        // Either a free name was found, or the write was refused: never the victim.
        if result.is_ok() {
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_existing_file_is_replaced_whole_with_the_mode_asked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("replace");
        let target = dir.join("state.json");
        std::fs::write(&target, "a much longer old content").unwrap();
        let old = std::fs::metadata(&target).unwrap().ino();
        replace(&target, b"new", 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        let meta = std::fs::metadata(&target).unwrap();
        // A new file, renamed over: a reader of the old one never sees a mix.
        assert_ne!(meta.ino(), old);
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_path_without_a_file_name_or_directory_is_refused() {
        let err = replace(Path::new("/"), b"x", 0o600).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let dir = scratch("nodir");
        let err = replace(&dir.join("missing/file"), b"x", 0o600).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        assert!(c_name(OsStr::new("a\0b")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
