//! The factory: a state root directory holding one directory per container, valid
//! container ids, and creating or loading containers there (the seed's `Factory`).

use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::container::{Container, Overview, State};
use crate::error::{Error, Result};

/// Creates and finds containers under one state root.
///
/// Containers it hands out start and exec processes only while the program runs from a
/// sealed binary (see [`crate::sealed`]): call [`crate::sealed::ensure`] first thing in
/// `main`, or opt out with [`Factory::without_seal_check`].
///
/// # Examples
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use hull::{spec, Factory};
///
/// let factory = Factory::new("/run/hull")?;
/// let (config, process) = spec::load("/path/to/bundle".as_ref())?;
/// let mut container = factory.create("demo", config)?;
/// container.start(process)?; // init waits for `exec`
/// assert_eq!(factory.list()?, ["demo"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Factory {
    root: PathBuf,
    seal_check: bool,
}

/// Checks a container id: letters, digits and `_ + - .`, not `.` or `..`, at most 1024
/// bytes. An id is a directory name, so anything else could name a path.
pub fn validate_id(id: &str) -> Result<()> {
    let invalid = |reason| Error::InvalidId {
        id: id.to_string(),
        reason,
    };
    if id.is_empty() {
        return Err(invalid("it is empty"));
    }
    if id == "." || id == ".." {
        return Err(invalid("it must not be \".\" or \"..\""));
    }
    if id.len() > 1024 {
        return Err(invalid("it is longer than 1024 bytes"));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'))
    {
        return Err(invalid("only letters, digits and _ + - . are allowed"));
    }
    Ok(())
}

impl Factory {
    /// A factory over `root`, made (mode 0700) if missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<Factory> {
        let root = root.into();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&root)
            .map_err(|e| Error::io("create state root", &root, e))?;
        Ok(Factory {
            root,
            seal_check: true,
        })
    }

    /// Lets containers start and exec from a binary that is not sealed. Until the
    /// container's process execs, it is a fork of this program: a process in the
    /// container with CAP_SYS_PTRACE could open `/proc/<pid>/exe` and overwrite the
    /// program on the host through it (CVE-2019-5736). Opt out only if the binary is
    /// protected otherwise, or if nothing untrusted runs in the containers.
    #[must_use]
    pub fn without_seal_check(mut self) -> Factory {
        self.seal_check = false;
        self
    }

    /// The directory that holds the containers' state (one directory per container).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Registers a new container (validates the id and the config, with
    /// [`Config::validate`], makes its state directory; starts nothing). The returned container holds its lock until dropped.
    pub fn create(&self, id: &str, mut config: Config) -> Result<Container> {
        validate_id(id)?;
        crate::config::network::name_host_ends(&mut config.networks, id);
        config.validate()?;
        let dir = self.root.join(id);
        match fs::DirBuilder::new().mode(0o711).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Error::IdInUse(id.into()))
            }
            Err(e) => return Err(Error::io("create", &dir, e)),
        }
        let lock = Container::lock_dir(&dir)?;
        // The state is first saved by start, once it has chosen the cgroup: until then
        // nothing exists on the host but this directory, which `load` shows as a
        // container being created (one write less on the way to a running container).
        let state = State::new(id, config);
        Ok(Container::new(dir, state, Some(lock), self.seal_check))
    }

    /// Loads an existing container, without taking its lock.
    pub fn load(&self, id: &str) -> Result<Container> {
        validate_id(id)?;
        let dir = self.root.join(id);
        match State::load(&dir) {
            Ok(state) => Ok(Container::new(dir, state, None, self.seal_check)),
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                if dir.is_dir() {
                    // A create that died before its first save: nothing exists on the
                    // host yet, so the directory is all there is to show for it.
                    Ok(Container::new(
                        dir,
                        State::new(id, Config::default()),
                        None,
                        self.seal_check,
                    ))
                } else {
                    Err(Error::NotExists(id.into()))
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Every container as a listing shows it, sorted by id: read without their whole
    /// configs, so this stays cheap with many containers. One deleted meanwhile is left
    /// out; one whose state cannot be read is an error of its own, in its place.
    pub fn overview(&self) -> Result<Vec<Result<Overview>>> {
        let root_fd = crate::sys::open_path(&self.root, libc::O_DIRECTORY)
            .map_err(|e| Error::io("open state root", &self.root, e))?;
        Ok(self
            .list()?
            .into_iter()
            .filter_map(|id| Overview::load(root_fd.as_fd(), &self.root, &id).transpose())
            .collect())
    }

    /// The ids of all containers, sorted.
    pub fn list(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = fs::read_dir(&self.root)
            .map_err(|e| Error::io("read state root", &self.root, e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|id| validate_id(id).is_ok())
            .collect();
        ids.sort();
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for good in ["a", "my-container_1.2+x", "A"] {
            assert!(validate_id(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "../x", "a b", "é", &"x".repeat(1025)] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn id_limits_are_exact() {
        assert!(validate_id(&"x".repeat(1024)).is_ok());
        assert!(validate_id("...").is_ok());
        assert!(validate_id(".hidden").is_ok());
        for (bad, reason) in [
            ("", "it is empty"),
            ("..", "it must not be"),
            ("a\0b", "only letters"),
            ("a\nb", "only letters"),
            ("a:b", "only letters"),
        ] {
            match validate_id(bad) {
                Err(Error::InvalidId { id, reason: why }) => {
                    assert_eq!(id, bad);
                    assert!(why.starts_with(reason), "{bad:?}: {why}");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_state_root_is_private_and_lists_only_container_directories() {
        use std::os::unix::fs::PermissionsExt;
        let dir = crate::test_util::Scratch::new("factory");
        let root = dir.join("state/root");
        let factory = Factory::new(&root).unwrap();
        assert_eq!(factory.root(), root);
        let mode = fs::metadata(&root).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        for d in ["b", "a", "c d", "z"] {
            fs::create_dir(root.join(d)).unwrap();
        }
        fs::write(root.join("file"), "").unwrap();
        // Sorted; a file and a name no id could have are not containers.
        assert_eq!(factory.list().unwrap(), ["a", "b", "z"]);
        assert!(matches!(factory.load("nothere"), Err(Error::NotExists(_))));
        assert!(matches!(
            factory.load("../root"),
            Err(Error::InvalidId { .. })
        ));
        // An existing root is fine.
        assert!(Factory::new(&root).is_ok());
    }
}
