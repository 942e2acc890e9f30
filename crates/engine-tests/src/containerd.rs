//! A private containerd for one test: its root, state, sockets and config below the
//! test's directory, run in the test's network namespace, with or without the CRI
//! plugin (then hull is the runtime handler `hull`, and pods get a bridge network by
//! CNI, inside that namespace too).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Daemon, Netns, Scratch, Wrapper};

/// The runtime handler name hull is registered under for CRI.
pub const HANDLER: &str = "hull";

pub struct Containerd {
    pub socket: PathBuf,
    /// hull's `--root` for the tasks of CRI pods (the shim passes it).
    pub runtime_root: PathBuf,
    pub daemon: Daemon,
}

impl Containerd {
    /// Starts containerd; with `cri`, the CRI plugin with hull as handler [`HANDLER`].
    pub fn start(scratch: &Scratch, netns: &Netns, wrapper: &Wrapper, cri: bool) -> Containerd {
        let socket = scratch.path("containerd.sock");
        let runtime_root = scratch.path("hull-root");
        let mut disabled = vec![r#""io.containerd.internal.v1.opt""#];
        if !cri {
            disabled.push(r#""io.containerd.grpc.v1.cri""#);
        }
        let cni_conf = scratch.path("cni");
        let config = format!(
            r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = [{disabled}]

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  enable_selinux = false
  # This machine withholds CAP_SYS_RESOURCE (no runtime may lower oom_score_adj, as
  # CRI asks for its sandboxes): keep it at containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "{handler}"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{handler}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{handler}.options]
        BinaryName = "{wrapper}"
        Root = "{runtime_root}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni_conf}"
"#,
            root = scratch.path("root").display(),
            state = scratch.path("state").display(),
            disabled = disabled.join(", "),
            socket = socket.display(),
            pause = crate::images::PAUSE,
            handler = HANDLER,
            wrapper = wrapper.path.display(),
            runtime_root = runtime_root.display(),
            cni_conf = cni_conf.display(),
        );
        let config_path = scratch.write("containerd.toml", &config);
        scratch.write(
            "cni/10-hull-test.conflist",
            &serde_json::json!({
                "cniVersion": "0.4.0",
                "name": "hull-test",
                "plugins": [{
                    "type": "bridge",
                    "bridge": "hulltest0",
                    "isGateway": true,
                    "ipMasq": false,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{ "subnet": "10.231.7.0/24" }]],
                        "dataDir": scratch.path("cni-ipam"),
                    }
                }]
            })
            .to_string(),
        );
        let mut cmd = netns.command("containerd");
        cmd.arg("--config").arg(&config_path);
        let daemon = Daemon::start(scratch, "containerd", cmd, &socket);
        Containerd {
            socket,
            runtime_root,
            daemon,
        }
    }

    /// `ctr` against this containerd, in `namespace`.
    pub fn ctr(&self, namespace: &str) -> Command {
        let mut cmd = Command::new("ctr");
        cmd.arg("--address")
            .arg(&self.socket)
            .arg("--namespace")
            .arg(namespace);
        cmd
    }

    /// Imports a docker archive into `namespace`.
    pub fn import(&self, namespace: &str, archive: &Path) {
        crate::run_ok(self.ctr(namespace).args(["images", "import"]).arg(archive));
    }
}
