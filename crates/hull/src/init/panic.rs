//! One answer to a panic in a process hull forked (init, or exec's joining child), in
//! debug and release builds alike. Release builds abort on panic and debug builds
//! unwind, and neither fits a forked child: an abort tells the parent nothing, and
//! unwinding would run destructors of frames copied from the parent (its handles on
//! the container) in the child. The panic hook runs first either way: it reports the
//! panic as a setup failure and ends the process with `_exit`, before either happens.
//! The child has one thread, so the hook is its own.

use std::panic::PanicHookInfo;
use std::sync::Arc;

use crate::process::channel::Channel;
use crate::sys;

/// Until `Ready`, a panic in `what` goes to the parent as any setup failure does.
pub(crate) fn report_to_parent(chan: Arc<Channel>, what: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        super::fail_before_ready(&chan, text(what, info))
    }));
}

/// After `Ready` nobody listens: a panic goes to the process's stderr.
pub(crate) fn report_on_stderr(what: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        super::exec::report(text(what, info));
        sys::exit_now(1)
    }));
}

fn text(what: &str, info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("{what} panicked: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::channel::{ChannelError, Message};
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::Pid;

    /// Sends `Ready` if it is ever dropped, which only unwinding could do.
    struct TellsOnDrop(Arc<Channel>);

    impl Drop for TellsOnDrop {
        fn drop(&mut self) {
            let _ = self.0.send(&Message::Ready);
        }
    }

    #[test]
    fn a_panic_in_a_forked_child_is_reported_and_unwinds_nothing() {
        let (parent_end, child_end) = Channel::pair().unwrap();
        let pid = sys::fork_child(0, None, |_, _| {
            let chan = Arc::new(child_end);
            report_to_parent(Arc::clone(&chan), "init");
            let _frame = TellsOnDrop(chan);
            panic!("on purpose")
        })
        .unwrap();
        let status = waitpid(Pid::from_raw(pid), None).unwrap();
        assert_eq!(status, WaitStatus::Exited(Pid::from_raw(pid), 1));
        assert_eq!(
            parent_end.recv().unwrap(),
            Message::Failed("init panicked: on purpose".into())
        );
        // Nothing else came: the copied frame was never dropped.
        assert!(matches!(parent_end.recv(), Err(ChannelError::Closed)));
    }
}
