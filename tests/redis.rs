//! The Redis stores against a real `redis-server` (Debian's; `./dev.sh test` installs
//! it), started here on 127.0.0.1 on a free port and stopped by its process id: the
//! contract kits of the async family, their faults, and what survives a reopen.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mqtt_common::testing::{session_contract, storage_contract};
use mqtt_common::{
    AsyncSessionInterface, AsyncStorageInterface, ErrorKind, MemoryStorageConfig, Message,
    ProtocolVersion, RedisConfig, RedisSessionStore, RedisStorage, TopicFilter, TopicName, Will,
};

/// A `redis-server` of the test's own, stopped (by its process id) when dropped.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Server {
    /// Starts one with an append-only file in a directory of its own.
    fn start() -> Self {
        Self::start_on(free_port(), Self::scratch())
    }

    /// A new, empty directory for a server's files.
    fn scratch() -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mqtt-common-redis-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        dir
    }

    fn start_on(port: u16, dir: PathBuf) -> Self {
        Self::start_with(port, dir, &[])
    }

    fn start_with(port: u16, dir: PathBuf, extra: &[&str]) -> Self {
        Self::start_listening(port, dir, &["--port", &port.to_string()], extra)
    }

    /// Starts one that speaks only TLS, on `port`, with a certificate for 127.0.0.1
    /// that `ca.pem` in `dir` signed.
    fn start_tls(port: u16, dir: PathBuf) -> Self {
        let file = |name: &str| dir.join(name).display().to_string();
        let (cert, key, ca) = (file("server.pem"), file("server.key"), file("ca.pem"));
        let listen = ["--port", "0", "--tls-port", &port.to_string()];
        let tls = [
            "--tls-cert-file",
            cert.as_str(),
            "--tls-key-file",
            key.as_str(),
            "--tls-ca-cert-file",
            ca.as_str(),
            "--tls-auth-clients",
            "no",
        ];
        Self::start_listening(port, dir.clone(), &listen, &tls)
    }

    fn start_listening(port: u16, dir: PathBuf, listen: &[&str], extra: &[&str]) -> Self {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1"])
            .args(listen)
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "redis-server must be installed for these tests (./dev.sh test installs \
                 Debian's: apt-get install -y redis-server)",
            );
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port, dir }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL) and starts it again on the same port and files.
    fn restart(mut self) -> Self {
        self.stop();
        let dir = std::mem::take(&mut self.dir);
        let port = self.port;
        std::mem::forget(self);
        Self::start_on(port, dir)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How each cluster node runs. A replica takes over however long it was away from its
/// master (validity factor 0): a test's replicas have only just synced.
const CLUSTER_NODE: [&str; 6] = [
    "--cluster-enabled",
    "yes",
    "--cluster-node-timeout",
    "2000",
    "--cluster-replica-validity-factor",
    "0",
];

/// A Redis Cluster of three masters on loopback, made with `redis-cli --cluster create`.
struct Cluster {
    nodes: Vec<Server>,
}

impl Cluster {
    fn start() -> Self {
        Self::start_with_replicas(0)
    }

    /// Three masters, each with `replicas` replicas.
    fn start_with_replicas(replicas: usize) -> Self {
        let nodes: Vec<Server> = (0..3 * (1 + replicas))
            .map(|_| {
                // A port whose cluster bus port (+10000) is free too.
                Server::start_with(free_cluster_port(), Server::scratch(), &CLUSTER_NODE)
            })
            .collect();
        let mut create = Command::new("redis-cli");
        create.args(["--cluster", "create"]);
        for node in &nodes {
            create.arg(format!("127.0.0.1:{}", node.port));
        }
        let status = create
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli (Debian's redis-tools) must be installed");
        assert!(status.success(), "redis-cli --cluster create failed");
        let started = Instant::now();
        for node in &nodes {
            loop {
                let info = Command::new("redis-cli")
                    .args(["-p", &node.port.to_string(), "cluster", "info"])
                    .output()
                    .expect("redis-cli");
                if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "the cluster is not ok"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Self { nodes }
    }

    /// Any node's URL: the stores find the others from it.
    fn url(&self) -> String {
        self.nodes[1].url()
    }

    /// Starts node `index` again (stopped), on its port and files.
    fn revive(&mut self, index: usize) {
        let port = self.nodes[index].port;
        let dir = std::mem::take(&mut self.nodes[index].dir);
        self.nodes[index].stop();
        let revived = Server::start_with(port, dir, &CLUSTER_NODE);
        // The old value's directory is now the revived one's: nothing to remove.
        drop(std::mem::replace(&mut self.nodes[index], revived));
    }

    /// The node that is the master of `key`'s slot now, as the node `asked` sees it.
    fn master_of(&self, key: &str, asked: usize) -> usize {
        let port = self.nodes[asked].port.to_string();
        let answer = Command::new("redis-cli")
            .args(["-p", &port, "cluster", "keyslot", key])
            .output()
            .expect("redis-cli");
        let slot: u32 = String::from_utf8_lossy(&answer.stdout)
            .trim()
            .parse()
            .expect("a slot");
        let shards = Command::new("redis-cli")
            .args(["-p", &port, "cluster", "slots"])
            .output()
            .expect("redis-cli");
        // Lines: start, end, master ip, master port, id, (replicas...) per range.
        let text = String::from_utf8_lossy(&shards.stdout);
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let mut i = 0;
        while i + 3 < lines.len() {
            if let (Ok(start), Ok(end)) = (lines[i].parse::<u32>(), lines[i + 1].parse::<u32>())
                && (start..=end).contains(&slot)
            {
                let port: u16 = lines[i + 3].parse().expect("a port");
                return self
                    .nodes
                    .iter()
                    .position(|node| node.port == port)
                    .expect("a node of the cluster");
            }
            i += 1;
        }
        panic!("no master for slot {slot}:\n{text}");
    }
}

fn free_cluster_port() -> u16 {
    loop {
        let port = free_port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A prefix of its own for each store, so that each starts empty.
fn fresh(server: &Server) -> RedisConfig {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    RedisConfig::new(server.url()).with_prefix(format!("test{n}"))
}

/// Opens a store from synchronous code inside the runtime (the kits' `make`).
fn opened<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

fn message(topic: &str, payload: &str) -> Message {
    Message::new(TopicName::new(topic).expect("topic"), payload.to_owned()).expect("message")
}

fn retained(topic: &str, payload: &str) -> Message {
    Message::builder(TopicName::new(topic).expect("topic"))
        .payload(payload.to_owned())
        .retain(true)
        .build()
        .expect("message")
}

#[test]
fn the_redis_stores_keep_the_contracts() {
    let server = Server::start();
    runtime().block_on(async {
        storage_contract(|| {
            opened(RedisStorage::open(
                &fresh(&server),
                MemoryStorageConfig::default(),
            ))
            .expect("a Redis storage")
        })
        .await;
        session_contract(|| opened(RedisSessionStore::open(&fresh(&server))).expect("a store"))
            .await;
    });
}

#[test]
fn the_redis_stores_keep_the_contracts_on_a_cluster() {
    let cluster = Cluster::start();
    let config = || {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        RedisConfig::new(cluster.url()).with_prefix(format!("cluster{n}"))
    };
    runtime().block_on(async {
        let probe = RedisStorage::open(&config(), MemoryStorageConfig::default())
            .await
            .expect("a Redis storage");
        assert!(
            probe.is_cluster(),
            "the stores use the cluster, not one node"
        );
        storage_contract(|| {
            opened(RedisStorage::open(
                &config(),
                MemoryStorageConfig::default(),
            ))
            .expect("a Redis storage")
        })
        .await;
        session_contract(|| opened(RedisSessionStore::open(&config())).expect("a store")).await;
        // Clients' keys spread over the three masters, each client's on one slot.
        let storage = RedisStorage::open(&config(), MemoryStorageConfig::default())
            .await
            .expect("a Redis storage");
        for i in 0..30 {
            let client = format!("client-{i}");
            let filter = TopicFilter::new(&format!("t/{i}/#")).expect("filter");
            let subscription =
                mqtt_common::Subscription::new(filter, mqtt_common::QoS::AtLeastOnce);
            storage
                .add_subscription(&client, subscription)
                .await
                .expect("subscribed");
            storage
                .enqueue(&client, message("t", "x"))
                .await
                .expect("queued");
        }
        let topic = TopicName::new("t/7/a").expect("topic");
        let found = storage.get_subscribers(&topic).await.expect("read");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "client-7");
    });
    drop(cluster);
}

#[test]
fn a_cluster_failing_over_keeps_what_it_acknowledged_and_works_on_the_new_master() {
    let mut cluster = Cluster::start_with_replicas(1);
    // Each write waits for its replica (WAIT, on the key's master): a failover keeps it.
    // (Without, Redis replicates after it answers, and a failover may lose what it
    // acknowledged: this test, written first without, lost "before".)
    let config = RedisConfig::new(cluster.url())
        .with_prefix("failover")
        .with_replicas(1, Duration::from_secs(5));
    let runtime = runtime();
    let storage = runtime
        .block_on(RedisStorage::open(&config, MemoryStorageConfig::default()))
        .expect("a storage");
    // The replicas attach after the cluster is made: until then a write fails WAIT.
    let started = Instant::now();
    while runtime
        .block_on(storage.enqueue("c", message("t", "before")))
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no replica attached"
        );
        runtime
            .block_on(storage.dequeue("c", None))
            .expect("emptied");
        std::thread::sleep(Duration::from_millis(100));
    }
    let master = cluster.master_of("failover:queue:{cc}", 0);
    let survivor = (master + 1) % cluster.nodes.len();
    cluster.nodes[master].stop();
    // A replica takes over; until the old master is back as its replica, a write is
    // taken by the new master but not acknowledged (its WAIT fails): storage errors.
    let started = Instant::now();
    while cluster.master_of("failover:queue:{cc}", survivor) == master {
        assert!(started.elapsed() < Duration::from_secs(30), "no failover");
        std::thread::sleep(Duration::from_millis(200));
    }
    let err = runtime
        .block_on(storage.enqueue("c", message("t", "unacknowledged")))
        .expect_err("no replica to wait for");
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    cluster.revive(master);
    let started = Instant::now();
    while let Err(err) = runtime.block_on(storage.enqueue("c", message("t", "after"))) {
        assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
        assert!(started.elapsed() < Duration::from_secs(30), "{err}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let now = cluster.master_of("failover:queue:{cc}", survivor);
    assert_ne!(now, master, "a replica took over");
    let queued = runtime
        .block_on(storage.queued_messages("c"))
        .expect("read from the new master");
    let payloads: Vec<&[u8]> = queued
        .iter()
        .map(|q| q.message.payload().as_ref())
        .collect();
    // Everything acknowledged is there, in order ("before" first, "after" last);
    // what failed may be there too (Redis does not take a write back when its WAIT
    // fails), as a client sends again what it was not acknowledged.
    assert_eq!(
        payloads.first(),
        Some(&b"before".as_slice()),
        "{payloads:?}"
    );
    assert_eq!(payloads.last(), Some(&b"after".as_slice()), "{payloads:?}");
}

#[test]
fn what_was_stored_is_there_after_a_reopen_and_a_kill_of_redis() {
    let server = Server::start();
    let config = fresh(&server);
    let runtime = runtime();
    runtime.block_on(async {
        let storage = RedisStorage::open(&config, MemoryStorageConfig::default())
            .await
            .expect("a storage");
        let sessions = RedisSessionStore::open(&config).await.expect("a store");
        let writes: Vec<_> = (0..200)
            .map(|i| storage.store_retained(retained(&format!("r/{i}"), "x")))
            .collect();
        // Under way together: their commands share the connection's round trips.
        for write in futures::future::join_all(writes).await {
            write.expect("a retained message stored");
        }
        let (session, _) = sessions
            .create_session("c", false, 3600, ProtocolVersion::V5)
            .await
            .expect("a session");
        sessions.save_session(&session).await.expect("saved");
        let will = Will {
            message: message("w", "gone"),
            delay_interval: 5,
        };
        sessions.set_will("c", will).await.expect("a Will");
    });
    // Everything acknowledged was in the append-only file (appendfsync always).
    let server = server.restart();
    runtime.block_on(async {
        let storage = RedisStorage::open(&config, MemoryStorageConfig::default())
            .await
            .expect("a storage");
        let all = TopicFilter::new("r/#").expect("filter");
        assert_eq!(storage.get_retained(&all).await.expect("read").len(), 200);
        let sessions = RedisSessionStore::open(&config).await.expect("a store");
        assert_eq!(
            sessions.client_ids().await.expect("ids"),
            vec!["c".to_owned()]
        );
        let will = sessions.get_will("c").await.expect("read").expect("a Will");
        assert_eq!(will.delay_interval, 5);
    });
    drop(server);
}

#[test]
fn a_lost_redis_gives_storage_errors_then_calls_work_again() {
    let server = Server::start();
    let config = fresh(&server);
    let runtime = runtime();
    let storage = runtime
        .block_on(RedisStorage::open(&config, MemoryStorageConfig::default()))
        .expect("a storage");
    runtime
        .block_on(storage.enqueue("c", message("t", "before")))
        .expect("queued");
    let mut server = server;
    server.stop();
    let err = runtime
        .block_on(storage.enqueue("c", message("t", "meanwhile")))
        .expect_err("Redis is down");
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains(&server.url()), "{err}");
    let server = server.restart();
    // The connection comes back by itself (with backoff): the first calls may still
    // fail while it does; none is reported done that Redis did not take.
    let started = Instant::now();
    loop {
        match runtime.block_on(storage.enqueue("c", message("t", "after"))) {
            Ok(()) => break,
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::Storage);
                assert!(started.elapsed() < Duration::from_secs(20), "{err}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    let queued = runtime
        .block_on(storage.queued_messages("c"))
        .expect("read");
    let payloads: Vec<&[u8]> = queued
        .iter()
        .map(|q| q.message.payload().as_ref())
        .collect();
    assert_eq!(payloads, vec![b"before".as_slice(), b"after".as_slice()]);
    drop(server);
}

#[test]
fn an_unreachable_server_is_named_in_the_error() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let mut config = RedisConfig::new(&url);
    config.connection_timeout = Duration::from_secs(1);
    let err = runtime()
        .block_on(RedisStorage::open(&config, MemoryStorageConfig::default()))
        .expect_err("nothing listens there");
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains(&url), "{err}");
}

#[test]
fn another_layout_version_and_a_bad_prefix_are_refused() {
    let server = Server::start();
    let runtime = runtime();
    let config = fresh(&server);
    runtime.block_on(async {
        let client = redis_client(&server).await;
        let mut connection = client;
        let () = redis::cmd("SET")
            .arg(format!("{}:schema", config.prefix))
            .arg("99")
            .query_async(&mut connection)
            .await
            .expect("set");
        let err = RedisSessionStore::open(&config)
            .await
            .expect_err("version 99");
        assert!(err.to_string().contains("layout version"), "{err}");
        let bad = RedisConfig::new(server.url()).with_prefix("a{b}");
        let err = RedisSessionStore::open(&bad).await.expect_err("braces");
        assert!(err.to_string().contains("prefix"), "{err}");
    });
}

#[test]
fn a_write_that_no_replica_took_fails_when_replicas_are_required() {
    let server = Server::start();
    let config = fresh(&server).with_replicas(1, Duration::from_millis(100));
    let runtime = runtime();
    runtime.block_on(async {
        let storage = RedisStorage::open(&config, MemoryStorageConfig::default())
            .await
            .expect("a storage");
        let err = storage
            .store_retained(retained("r", "x"))
            .await
            .expect_err("there is no replica");
        assert!(err.to_string().contains("0 of the 1 replicas"), "{err}");
    });
}

#[test]
fn a_write_waits_for_the_replica_it_requires() {
    let server = Server::start();
    let replica = Server::start_with(
        free_port(),
        Server::scratch(),
        &["--replicaof", "127.0.0.1", &server.port.to_string()],
    );
    let config = fresh(&server).with_replicas(1, Duration::from_secs(5));
    let runtime = runtime();
    runtime.block_on(async {
        let storage = RedisStorage::open(&config, MemoryStorageConfig::default())
            .await
            .expect("a storage");
        // The replica takes a moment to attach: a write fails until it has.
        let started = Instant::now();
        while storage.store_retained(retained("r", "x")).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no replica attached"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Acknowledged by the replica too: the replica has it.
        storage
            .enqueue("c", message("t", "on both"))
            .await
            .expect("a replicated write");
        let mut on_replica = redis_client(&replica).await;
        let length: usize = redis::cmd("HLEN")
            .arg(format!("{}:queue:{{cc}}", config.prefix))
            .query_async(&mut on_replica)
            .await
            .expect("HLEN");
        assert_eq!(length, 1);
    });
    drop(replica);
}

/// A CA and a server certificate for 127.0.0.1 it signed, in `dir` (by openssl).
fn make_certificates(dir: &std::path::Path) {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("san");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    ]);
}

#[test]
fn rediss_with_a_ca_of_its_own() {
    let dir = Server::scratch();
    make_certificates(&dir);
    let port = free_port();
    let server = Server::start_tls(port, dir.clone());
    let url = format!("rediss://127.0.0.1:{port}");
    let runtime = runtime();
    // Not trusted by the system's roots: refused, and the error names the server.
    let err = runtime
        .block_on(RedisSessionStore::open(&RedisConfig::new(&url)))
        .expect_err("an unknown CA");
    assert!(err.to_string().contains(&url), "{err}");
    let config = RedisConfig::new(&url).with_tls_ca(dir.join("ca.pem"));
    runtime.block_on(async {
        let sessions = RedisSessionStore::open(&config)
            .await
            .expect("TLS with the CA");
        let (session, present) = sessions
            .create_session("c", false, 60, ProtocolVersion::V5)
            .await
            .expect("a session over TLS");
        assert!(!present);
        assert_eq!(
            sessions.get_session("c").await.expect("read"),
            Some(session)
        );
    });
    drop(server);
}

async fn redis_client(server: &Server) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .expect("a client")
        .get_multiplexed_async_connection()
        .await
        .expect("a connection")
}

/// Two nodes of a cluster exchange forwards and changes through Redis: what a node did
/// not finish comes back when it joins again, and a node whose lease ended is named.
async fn nodes_exchange_through(config: RedisConfig) {
    use mqtt_common::redis::Inbound;
    use mqtt_common::router::{Change, Forward};
    use mqtt_common::{NodeConfig, RedisNode};
    let filter = |f: &str| TopicFilter::new(f).expect("filter");
    let mut one = RedisNode::join(&config, &NodeConfig::new("n1"))
        .await
        .expect("n1 joins");
    one.node
        .announce_all(&[filter("a/#"), filter("$share/g/b")])
        .await
        .expect("announced");
    let mut two = RedisNode::join(&config, &NodeConfig::new("n2"))
        .await
        .expect("n2 joins");
    let mut seen: Vec<String> = two
        .filters
        .iter()
        .map(|(n, f)| format!("{n} {f}"))
        .collect();
    seen.sort();
    assert_eq!(seen, ["n1 $share/g/b", "n1 a/#"]);

    let forward = Forward {
        node: "n2".into(),
        message: message("a/1", "hello"),
        publisher: Some("p".into()),
        groups: vec!["$share/g/b".to_owned()],
        published_at: std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        client: None,
    };
    let cleared = Change::RetainedCleared {
        topic: TopicName::new("r").expect("topic"),
    };
    one.node
        .send(
            std::slice::from_ref(&forward),
            std::slice::from_ref(&cleared),
            &[],
        )
        .await
        .expect("sent");
    let got = two.inbox.read("n2").await.expect("read");
    // The first read is the backlog (empty for a new node); the forward comes next.
    let got = if got.is_empty() {
        two.inbox.read("n2").await.expect("read")
    } else {
        got
    };
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].item, Ok(Inbound::Forwards(vec![forward.clone()])));
    assert_eq!(two.changes.read().await.expect("changes"), [cleared]);

    // Not done: n2 joining again (a restart) reads it again, once done, never again.
    let mut again = RedisNode::join(&config, &NodeConfig::new("n2"))
        .await
        .expect("n2 again");
    let backlog = again.inbox.read("n2").await.expect("backlog");
    assert_eq!(backlog.len(), 1);
    assert_eq!(
        backlog[0].item,
        Ok(Inbound::Forwards(vec![forward.clone()]))
    );

    // QoS 0 goes live: through pub/sub, to the node's feed.
    one.node
        .publish_live(std::slice::from_ref(&forward))
        .await
        .expect("published");
    assert_eq!(two.live.read().await.expect("live"), [forward]);
    again
        .inbox
        .done(&[backlog[0].id.clone()])
        .await
        .expect("done");
    let mut third = RedisNode::join(&config, &NodeConfig::new("n2"))
        .await
        .expect("n2 a third time");
    assert!(third.inbox.read("n2").await.expect("backlog").is_empty());

    // A client moves from n2 to n1: n1 claims it and asks n2, which answers.
    assert_eq!(third.node.claim("mover").await.expect("claimed"), None);
    let session = mqtt_common::Session::new("mover", ProtocolVersion::V5, false, 60).expect("s");
    let facts = [mqtt_common::router::Fact::Session { session }];
    third.node.send(&[], &[], &facts).await.expect("listed");
    assert_eq!(third.node.client_ids().await.expect("ids"), ["mover"]);
    assert_eq!(
        one.node.holder_of("mover").await.expect("read"),
        Some("n2".to_owned())
    );
    assert!(one.node.is_alive("n2").await.expect("lease"));
    one.node.ask_release("n2", "mover").await.expect("asked");
    let asked = third.inbox.read("n2").await.expect("read");
    let asked = if asked.is_empty() {
        third.inbox.read("n2").await.expect("read")
    } else {
        asked
    };
    assert_eq!(
        asked[0].item,
        Ok(Inbound::Release {
            client_id: "mover".to_owned(),
            node: "n1".to_owned()
        })
    );
    third.node.released("n1", "mover").await.expect("released");
    assert_eq!(
        one.node.claim("mover").await.expect("claimed"),
        Some("n2".to_owned())
    );
    assert_eq!(one.node.holder_of("mover").await.expect("read"), None);
    assert!(third.node.client_ids().await.expect("ids").is_empty());
    let mut answers = Vec::new();
    while answers.is_empty() {
        answers = one.inbox.read("n1").await.expect("read");
    }
    assert_eq!(
        answers[0].item,
        Ok(Inbound::Released {
            client_id: "mover".to_owned()
        })
    );

    // A node whose lease ends is named by the others' heartbeat.
    let short = NodeConfig::new("n3").with_lease(Duration::from_millis(100));
    let _three = RedisNode::join(&config, &short).await.expect("n3 joins");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(one.node.heartbeat().await.expect("beat"), ["n3"]);

    // Leaving withdraws the node's filters, in the log.
    one.node
        .leave(&[filter("a/#"), filter("$share/g/b")])
        .await
        .expect("left");
    let mut withdrawn = Vec::new();
    while withdrawn.len() < 2 {
        withdrawn.extend(two.changes.read().await.expect("changes"));
    }
    assert!(
        withdrawn
            .iter()
            .all(|c| matches!(c, Change::Filter { present: false, .. })),
        "{withdrawn:?}"
    );
}

#[test]
fn cluster_nodes_exchange_through_redis() {
    let server = Server::start();
    runtime().block_on(nodes_exchange_through(fresh(&server)));
}

/// A node sends live no more than `LIVE_WINDOW` messages ahead of what the other has
/// read: past it, the sender waits (and so would its publishers), sending the rest as
/// the reader reads; every message arrives once, in order.
#[test]
fn a_live_sender_waits_for_a_slow_reader() {
    use mqtt_common::redis::LIVE_WINDOW;
    use mqtt_common::router::Forward;
    use mqtt_common::{NodeConfig, RedisNode};
    let server = Server::start();
    let config = fresh(&server);
    runtime().block_on(async {
        let one = RedisNode::join(&config, &NodeConfig::new("n1"))
            .await
            .expect("n1 joins");
        let mut two = RedisNode::join(&config, &NodeConfig::new("n2"))
            .await
            .expect("n2 joins");
        two.live.connect().await.expect("n2's feed");
        // n1's own feed takes in what n2 says it read.
        let mut feed = one.live;
        feed.connect().await.expect("n1's feed");
        let acks = tokio::spawn(async move {
            loop {
                let _ = feed.read().await;
            }
        });
        let total = usize::try_from(LIVE_WINDOW).expect("a count") + 5_000;
        let forwards: Vec<Forward> = (0..total)
            .map(|i| Forward {
                node: "n2".into(),
                message: message("a", &i.to_string()),
                publisher: None,
                groups: Vec::new(),
                published_at: std::time::SystemTime::now(),
                client: None,
            })
            .collect();
        let node = one.node;
        let sending = tokio::spawn(async move { node.publish_live(&forwards).await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !sending.is_finished(),
            "sent past the window to a reader that read nothing"
        );
        let mut read = Vec::new();
        while read.len() < total {
            let got = tokio::time::timeout(Duration::from_secs(10), two.live.read())
                .await
                .expect("more live messages")
                .expect("read");
            read.extend(got.iter().map(|f| f.message.payload().clone()));
        }
        let expected: Vec<String> = (0..total).map(|i| i.to_string()).collect();
        assert_eq!(read, expected);
        tokio::time::timeout(Duration::from_secs(10), sending)
            .await
            .expect("the sender is done once read")
            .expect("no panic")
            .expect("sent");
        acks.abort();
    });
}

#[test]
fn cluster_nodes_exchange_through_a_redis_cluster() {
    let cluster = Cluster::start();
    let config = RedisConfig::new(cluster.url()).with_prefix("nodes");
    runtime().block_on(nodes_exchange_through(config));
    drop(cluster);
}
