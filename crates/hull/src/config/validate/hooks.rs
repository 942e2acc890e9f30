//! Hooks: each program named by an absolute path (hooks run outside any root, where a
//! relative path would be the runtime's working directory), with a timeout, if any,
//! of at least a second.

use super::super::hooks::Hooks;
use super::Result;
use crate::error::ConfigError;

pub(super) fn check(hooks: &Hooks) -> Result<()> {
    for (kind, list) in hooks.by_kind() {
        for (i, hook) in list.iter().enumerate() {
            let field = format!("hooks.{kind}[{i}]");
            if !hook.path.is_absolute() {
                return Err(ConfigError::new(
                    format!("{field}.path"),
                    "must be an absolute path",
                ));
            }
            if hook.timeout == Some(0) {
                return Err(ConfigError::new(
                    format!("{field}.timeout"),
                    "must be positive",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::hooks::Hook;

    fn hook(path: &str, timeout: Option<u32>) -> Hook {
        Hook {
            path: path.into(),
            args: vec![],
            env: None,
            timeout,
        }
    }

    #[test]
    fn absolute_paths_and_positive_timeouts() {
        let mut hooks = Hooks {
            poststart: vec![hook("/bin/true", Some(5))],
            ..Hooks::default()
        };
        assert!(check(&hooks).is_ok());
        hooks.create_runtime = vec![hook("/bin/true", None), hook("true", None)];
        assert_eq!(
            check(&hooks).unwrap_err().field,
            "hooks.createRuntime[1].path"
        );
        hooks.create_runtime.clear();
        hooks.poststop = vec![hook("/bin/true", Some(0))];
        assert_eq!(
            check(&hooks).unwrap_err().field,
            "hooks.poststop[0].timeout"
        );
    }
}
