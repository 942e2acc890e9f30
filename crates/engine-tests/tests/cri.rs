//! Kubernetes' way in: containerd's CRI plugin with hull as the runtime handler `hull`
//! (runtime_type io.containerd.runc.v2, BinaryName = hull), driven over the CRI v1 gRPC
//! API as kubelet drives it. A pod whose containers share its pid namespace: a
//! long-running container with exec, stats and a live resource update, and a
//! run-to-completion one whose exit code must reach CRI; then everything is stopped
//! and removed, and nothing may be left.

use std::time::Duration;

use engine_tests::containerd::{Containerd, HANDLER};
use engine_tests::*;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::*;
use tonic::transport::{Channel, Endpoint, Uri};

async fn connect(socket: std::path::PathBuf) -> Channel {
    Endpoint::try_from("http://[::]:50051")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(socket).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
        .expect("connecting to containerd's CRI")
}

fn namespaces_of_the_pod() -> Option<NamespaceOption> {
    Some(NamespaceOption {
        network: NamespaceMode::Pod as i32,
        pid: NamespaceMode::Pod as i32,
        ipc: NamespaceMode::Pod as i32,
        ..Default::default()
    })
}

fn container(name: &str, command: &[&str], log: &str) -> ContainerConfig {
    ContainerConfig {
        metadata: Some(ContainerMetadata {
            name: name.into(),
            attempt: 0,
        }),
        image: Some(ImageSpec {
            image: images::BUSYBOX.into(),
            ..Default::default()
        }),
        command: command.iter().map(|s| s.to_string()).collect(),
        log_path: log.into(),
        linux: Some(LinuxContainerConfig {
            security_context: Some(LinuxContainerSecurityContext {
                namespace_options: namespaces_of_the_pod(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn kubernetes_cri_runs_pods_on_hull() {
    let parent = CgroupParent::new("pod");
    let cni_netns = NewCniNetns::watch();
    let scratch = Scratch::new("cri");
    let netns = Netns::new("hullcri");
    let wrapper = Wrapper::new(&scratch);
    let containerd = Containerd::start(&scratch, &netns, &wrapper, true);
    containerd.import("k8s.io", &images::busybox());
    containerd.import("k8s.io", &images::pause());
    let channel = connect(containerd.socket.clone()).await;
    let mut cri = RuntimeServiceClient::new(channel.clone());
    let mut images_api = ImageServiceClient::new(channel);
    let listed = images_api
        .list_images(ListImagesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed
            .images
            .iter()
            .any(|i| i.repo_tags.iter().any(|t| t == images::BUSYBOX)),
        "{listed:?}"
    );

    let logs = scratch.path("pod-logs");
    std::fs::create_dir_all(&logs).unwrap();
    let sandbox_config = PodSandboxConfig {
        metadata: Some(PodSandboxMetadata {
            name: "hullpod".into(),
            uid: unique("uid"),
            namespace: "default".into(),
            attempt: 0,
        }),
        hostname: "hullpod".into(),
        log_directory: logs.display().to_string(),
        linux: Some(LinuxPodSandboxConfig {
            cgroup_parent: parent.path.clone(),
            security_context: Some(LinuxSandboxSecurityContext {
                namespace_options: namespaces_of_the_pod(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let pod = cri
        .run_pod_sandbox(RunPodSandboxRequest {
            config: Some(sandbox_config.clone()),
            runtime_handler: HANDLER.into(),
        })
        .await
        .unwrap_or_else(|e| panic!("RunPodSandbox: {e}\n{}", containerd.daemon.output()))
        .into_inner()
        .pod_sandbox_id;

    // A long-running container.
    let create = |config: ContainerConfig| CreateContainerRequest {
        pod_sandbox_id: pod.clone(),
        config: Some(config),
        sandbox_config: Some(sandbox_config.clone()),
    };
    let worker = cri
        .create_container(create(container(
            "worker",
            &["sh", "-c", "echo started; exec sleep 300"],
            "worker.log",
        )))
        .await
        .unwrap()
        .into_inner()
        .container_id;
    cri.start_container(StartContainerRequest {
        container_id: worker.clone(),
    })
    .await
    .unwrap();

    // ExecSync: output, error output and exit code.
    let exec = |cmd: &[&str]| ExecSyncRequest {
        container_id: worker.clone(),
        cmd: cmd.iter().map(|s| s.to_string()).collect(),
        timeout: 20,
    };
    let out = cri
        .exec_sync(exec(&["sh", "-c", "echo out; echo err >&2; exit 3"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    assert_eq!(out.exit_code, 3);

    // The pod's pid namespace: its pid 1 is the pause container's shell.
    let out = cri
        .exec_sync(exec(&["cat", "/proc/1/cmdline"]))
        .await
        .unwrap()
        .into_inner();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("trap"),
        "pid 1 is not the pod's: {out:?}"
    );

    // Stats.
    let stats = cri
        .container_stats(ContainerStatsRequest {
            container_id: worker.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .stats
        .expect("stats");
    assert!(stats.cpu.is_some() && stats.memory.is_some(), "{stats:?}");

    // A live update, seen in the container's cgroup on the host.
    cri.update_container_resources(UpdateContainerResourcesRequest {
        container_id: worker.clone(),
        linux: Some(LinuxContainerResources {
            memory_limit_in_bytes: 64 << 20,
            cpu_shares: 512,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap_or_else(|e| panic!("UpdateContainerResources: {e}"));
    let cgroup = format!("{}/{worker}", parent.path);
    let limit = cgroup_file("memory", &cgroup, "memory.limit_in_bytes")
        .or_else(|| cgroup_file("memory", &cgroup, "memory.max"));
    assert_eq!(limit.as_deref(), Some("67108864"));

    // A container that runs to completion: CRI must see it exit, with its code.
    let done = cri
        .create_container(create(container(
            "done",
            &["sh", "-c", "exit 7"],
            "done.log",
        )))
        .await
        .unwrap()
        .into_inner()
        .container_id;
    cri.start_container(StartContainerRequest {
        container_id: done.clone(),
    })
    .await
    .unwrap();
    let status = |cri: &mut RuntimeServiceClient<Channel>, id: &str| {
        let request = ContainerStatusRequest {
            container_id: id.to_string(),
            verbose: false,
        };
        let mut cri = cri.clone();
        async move {
            cri.container_status(request)
                .await
                .unwrap()
                .into_inner()
                .status
                .expect("status")
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let exited = loop {
        let s = status(&mut cri, &done).await;
        if s.state == ContainerState::ContainerExited as i32 {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the finished container stays {:?}",
            s.state
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(exited.exit_code, 7);

    // Stop and remove everything.
    cri.stop_container(StopContainerRequest {
        container_id: worker.clone(),
        timeout: 2,
    })
    .await
    .unwrap_or_else(|e| panic!("StopContainer: {e}"));
    assert_eq!(
        status(&mut cri, &worker).await.state,
        ContainerState::ContainerExited as i32
    );
    for id in [&worker, &done] {
        cri.remove_container(RemoveContainerRequest {
            container_id: id.to_string(),
        })
        .await
        .unwrap_or_else(|e| panic!("RemoveContainer: {e}"));
    }
    cri.stop_pod_sandbox(StopPodSandboxRequest {
        pod_sandbox_id: pod.clone(),
    })
    .await
    .unwrap_or_else(|e| panic!("StopPodSandbox: {e}"));
    cri.remove_pod_sandbox(RemovePodSandboxRequest {
        pod_sandbox_id: pod.clone(),
    })
    .await
    .unwrap_or_else(|e| panic!("RemovePodSandbox: {e}"));

    // Nothing left: in CRI, in hull's state, in the cgroups, in the processes.
    let containers = cri
        .list_containers(ListContainersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(containers.containers.is_empty(), "{containers:?}");
    let pods = cri
        .list_pod_sandbox(ListPodSandboxRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(pods.items.is_empty(), "{pods:?}");
    let state = std::fs::read_dir(containerd.runtime_root.join("k8s.io"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(state, 0, "hull state left");
    assert_eq!(
        parent.pids(),
        Vec::<u32>::new(),
        "processes left in the pod's cgroups"
    );
    assert_eq!(
        parent.remove(),
        Vec::<std::path::PathBuf>::new(),
        "cgroups left"
    );
    assert_eq!(
        cni_netns.new_ones(),
        Vec::<String>::new(),
        "pod network namespaces left"
    );
    let daemon_pid = containerd.daemon.pid();
    wait_until("the shims to exit", Duration::from_secs(10), || {
        scratch
            .processes()
            .iter()
            .all(|(pid, _)| *pid == daemon_pid)
    });
}
