//! mqtt-tokio-broker: an MQTT 3.1, 3.1.1 and 5.0 broker on tokio, on mqtt-common's
//! engine (`ServerConnection`, one per connection), router (one for all), SQLite stores
//! (`--data-dir`) or Redis stores (`--redis-url`), and mosquitto's password and ACL
//! files.
//!
//! It is the Rust user's template: one task per connection on the multi-threaded
//! runtime (`connection`), the router behind a mutex held only for its synchronous
//! calls (`broker`), a group-commit task for the stores (`persist`), a mailbox per
//! connection for what the others tell it (`mailbox`). The MQTT rules are the library's.

mod broker;
mod cluster;
mod connection;
mod mailbox;
mod options;
mod persist;
mod tls;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use mqtt_common::asynchronous::Blocking;
use mqtt_common::auth::FileAuth;
use mqtt_common::protocol::ServerConfig;
use mqtt_common::router::{Change, QueueFull, Router, RouterConfig};
use mqtt_common::{
    AsyncAuthInterface, AsyncSessionInterface, AsyncStorageInterface, Durability,
    MemoryStorageConfig, NodeConfig, RedisConfig, RedisNode, RedisSessionStore, RedisStorage,
    SqliteSessionStore, SqliteStorage,
};
use tokio::net::TcpListener;

use crate::broker::Broker;
use crate::options::Options;
use crate::persist::Persister;

/// How long the connections have to end at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let options = match Options::try_parse() {
        Ok(options) => options,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    tracing_subscriber::fmt()
        .with_max_level(options.log_level)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mqtt-broker")
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start: no runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("cannot start: {why}");
            ExitCode::from(1)
        }
    }
}

/// The stores (in `--data-dir` or in Redis), and the session store's own handle (for
/// its client ids at a restart, and its closing).
struct Stores {
    storage: Arc<dyn AsyncStorageInterface>,
    sessions: Arc<dyn AsyncSessionInterface>,
    list: SessionList,
    /// With `--node-id`: where the stores are, to join the cluster there.
    redis: Option<RedisConfig>,
}

/// Where the stored sessions are listed.
#[derive(Clone)]
enum SessionList {
    File(Arc<SqliteSessionStore>, PathBuf),
    Redis(Arc<RedisSessionStore>),
}

impl SessionList {
    /// Every stored session's client id.
    async fn client_ids(&self) -> Result<Vec<String>, String> {
        let listed = match self {
            Self::File(file, _) => AsyncSessionInterface::client_ids(file.as_ref()).await,
            Self::Redis(store) => store.client_ids().await,
        };
        listed.map_err(|err| err.to_string())
    }

    /// Where they are, for the log.
    fn describe(&self) -> String {
        match self {
            Self::File(_, dir) => dir.display().to_string(),
            Self::Redis(store) => store.server().to_owned(),
        }
    }

    /// Stores what is pending and lets go of the store.
    async fn close(self) -> Result<(), String> {
        match self {
            Self::File(file, _) => tokio::task::spawn_blocking(move || file.close())
                .await
                .map_err(|err| err.to_string())?
                .map_err(|err| err.to_string()),
            Self::Redis(store) => {
                store.close();
                Ok(())
            }
        }
    }
}

async fn open_stores(options: &Options) -> Result<Option<Stores>, String> {
    // The router bounds the queues (--max-queued): the stores keep all they are given.
    let config = MemoryStorageConfig {
        max_queue_length: None,
        ..MemoryStorageConfig::default()
    };
    if let Some(url) = &options.redis_url {
        let mut redis = RedisConfig::new(url.as_str()).with_prefix(options.redis_prefix.as_str());
        if let Some(ca) = &options.redis_ca {
            redis = redis.with_tls_ca(ca);
        }
        let storage = RedisStorage::open(&redis, config)
            .await
            .map_err(|err| err.to_string())?;
        let sessions = Arc::new(
            RedisSessionStore::open(&redis)
                .await
                .map_err(|err| err.to_string())?,
        );
        tracing::info!(
            "state kept in Redis at {} under {:?}{}",
            storage.server(),
            options.redis_prefix,
            if storage.is_cluster() {
                " (a cluster)"
            } else {
                ""
            }
        );
        return Ok(Some(Stores {
            storage: Arc::new(storage),
            sessions: sessions.clone(),
            list: SessionList::Redis(sessions),
            redis: Some(redis),
        }));
    }
    let Some(dir) = &options.data_dir else {
        return Ok(None);
    };
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "--data-dir {} is a file: name a directory (it is made if missing)",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot make --data-dir {}: {err}", dir.display()))?;
    let session_file =
        Arc::new(SqliteSessionStore::open(dir.join("sessions.db")).map_err(|err| err.to_string())?);
    let storage = SqliteStorage::open_with(dir.join("storage.db"), config, Durability::Full)
        .map_err(|err| err.to_string())?;
    // Native members of the async family: a commit answers the awaiting task, with no
    // thread held per call.
    Ok(Some(Stores {
        storage: Arc::new(storage),
        sessions: session_file.clone(),
        list: SessionList::File(session_file, dir.clone()),
        redis: None,
    }))
}

fn auth_for(options: &Options) -> Result<Option<Arc<Blocking<FileAuth>>>, String> {
    if !options.has_auth_source() {
        return Ok(None);
    }
    let mut auth = FileAuth::new(options.anonymous_allowed());
    if let Some(path) = &options.password_file {
        auth = auth
            .with_password_file(path)
            .map_err(|err| err.to_string())?;
    }
    if let Some(path) = &options.acl_file {
        auth = auth.with_acl_file(path).map_err(|err| err.to_string())?;
    }
    // Checking a password hash takes milliseconds: on the blocking pool.
    Ok(Some(Arc::new(Blocking::new(auth))))
}

/// Reads the password and ACL files again at each SIGHUP, as mosquitto does; files
/// that do not read keep the old ones in force.
async fn reload_on_hangup(files: Arc<Blocking<FileAuth>>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            return;
        };
        while hangups.recv().await.is_some() {
            let auth = files.clone();
            match tokio::task::spawn_blocking(move || auth.get_ref().reload()).await {
                Ok(Ok(())) => tracing::info!("auth files reloaded"),
                Ok(Err(err)) => {
                    tracing::error!("the auth files were not reloaded (the old ones stay): {err}");
                }
                Err(err) => tracing::error!("the auth files were not reloaded: {err}"),
            }
        }
    }
    #[cfg(not(unix))]
    drop(files);
}

async fn serve(options: Options) -> Result<(), String> {
    if let Some(refusal) = options.refusal() {
        return Err(refusal);
    }
    let tls = match (&options.tls_cert, &options.tls_key) {
        (Some(certificate), Some(key)) => Some(tls::acceptor(
            certificate,
            key,
            options.tls_ca.as_deref(),
            options.require_certificate,
        )?),
        _ => None,
    };
    let files = auth_for(&options)?;
    if let Some(files) = &files {
        tokio::spawn(reload_on_hangup(files.clone()));
    }
    let auth = files.map(|files| files as Arc<dyn AsyncAuthInterface>);
    let stores = open_stores(&options).await?;
    let config = RouterConfig {
        max_queued_messages: options.max_queued,
        queue_full: QueueFull::DropNew,
        max_retained_messages: options.max_retained.map(|n| n as usize),
        max_retained_bytes: options
            .max_retained_bytes
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        max_connections: options.max_connections.map(|n| n as usize),
        ..RouterConfig::default()
    };
    let router = match &options.node_id {
        Some(node) => Router::clustered(config, node).map_err(|err| err.to_string())?,
        None => Router::new(config),
    };
    let lease = Duration::from_secs(u64::from(options.node_lease));
    let joined = match (
        &options.node_id,
        stores.as_ref().and_then(|s| s.redis.as_ref()),
    ) {
        (Some(node), Some(redis)) => {
            let config = NodeConfig::new(node.as_str()).with_lease(lease);
            let joined = RedisNode::join(redis, &config)
                .await
                .map_err(|err| err.to_string())?;
            tracing::info!(
                "node {node} of the cluster under {:?}: {} filters of other nodes",
                options.redis_prefix,
                joined.filters.len()
            );
            Some(joined)
        }
        _ => None,
    };
    let server = ServerConfig {
        max_keep_alive: options.max_keep_alive,
        maximum_packet_size: options
            .max_packet_size
            .unwrap_or(ServerConfig::default().maximum_packet_size),
        receive_maximum: options
            .max_inflight
            .unwrap_or(ServerConfig::default().receive_maximum),
        max_publish_rate: options.max_publish_rate.and_then(std::num::NonZeroU32::new),
        ..ServerConfig::default()
    };
    let node = joined.as_ref().map(|joined| joined.node.clone());
    let (persister, committing, session_list) = match stores {
        Some(stores) => {
            let (persister, task) = Persister::start(stores.storage, stores.sessions, node.clone());
            (Some(persister), Some(task), Some(stores.list))
        }
        None => (None, None, None),
    };
    let live = node.as_ref().map(|_| Arc::new(mailbox::Mailbox::default()));
    let broker = Broker::new(
        router,
        server,
        auth,
        options.anonymous_allowed(),
        persister,
        node.clone(),
        live.clone(),
    );
    let broker = Arc::new(broker);
    if let Some(joined) = &joined {
        let changes: Vec<Change> = joined
            .filters
            .iter()
            .map(|(node, filter)| Change::Filter {
                node: node.clone(),
                filter: filter.clone(),
                present: true,
            })
            .collect();
        cluster::apply(&broker, &changes);
    }
    if let Some(list) = &session_list {
        // A node takes up the sessions it held; a lone broker, all.
        let client_ids = match &node {
            Some(node) => node.client_ids().await.map_err(|err| err.to_string())?,
            None => list.client_ids().await?,
        };
        let restored = broker
            .restore(client_ids)
            .await
            .map_err(|err| err.to_string())?;
        tracing::info!(
            "stored sessions taken up from {}: {restored}",
            list.describe()
        );
    }
    let listener = listen(&options.host, options.port, options.reuse_port)
        .await
        .map_err(|err| format!("cannot listen on {}:{}: {err}", options.host, options.port))?;
    let address = listener.local_addr().map_err(|err| err.to_string())?;
    // The line scripts and tests wait for.
    println!("listening on {}:{}", address.ip(), address.port());
    let timers = tokio::spawn(broker.clone().run_timers());
    let sweeps = tokio::spawn(broker.clone().run_sweeps());
    let sys = (!options.sys_interval.is_zero())
        .then(|| tokio::spawn(broker.clone().publish_sys(options.sys_interval)));
    let mut node_tasks = Vec::new();
    if let Some(joined) = joined {
        let filters = broker.router().node_filters();
        joined
            .node
            .announce_all(&filters)
            .await
            .map_err(|err| err.to_string())?;
        let name = joined.node.node_id().to_owned();
        node_tasks.push(tokio::spawn(cluster::take_inbox(
            broker.clone(),
            joined.inbox,
            name,
        )));
        node_tasks.push(tokio::spawn(cluster::follow_changes(
            broker.clone(),
            joined.changes,
        )));
        node_tasks.push(tokio::spawn(cluster::take_live(
            broker.clone(),
            joined.live,
        )));
        if let Some(live) = live {
            node_tasks.push(tokio::spawn(cluster::send_live(joined.node.clone(), live)));
        }
        node_tasks.push(tokio::spawn(cluster::keep_lease(
            broker.clone(),
            joined.node,
            lease / 3,
        )));
    }
    // Accepted on a runtime thread, not this one: a connection's task and socket are
    // then allocated by the thread that serves it, from the same malloc arena as the
    // rest of its state (two arenas held 10% more per idle connection).
    let accepting = tokio::spawn(accept(listener, broker.clone(), tls));
    stop_signal().await;
    tracing::info!("shutting down");
    accepting.abort();
    let _ = accepting.await; // the listener closes with it
    broker.shut_down_connections();
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while broker.connected() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Each task holds the broker: awaited once aborted, so that it has let go.
    timers.abort();
    let _ = timers.await;
    sweeps.abort();
    let _ = sweeps.await;
    if let Some(sys) = sys {
        sys.abort();
        let _ = sys.await;
    }
    for task in node_tasks {
        task.abort();
    }
    let Ok(broker) = Arc::try_unwrap(broker) else {
        return Ok(()); // connections still hold it: the process ends anyway
    };
    if let (Some(persister), Some(committing)) = (broker.persister, committing) {
        // Dropping the persister ends the commit task once it has stored what it has.
        let (storage, sessions) = persister.stop();
        let _ = committing.await;
        drop(sessions);
        storage.close().await.map_err(|err| err.to_string())?;
    }
    if let Some(list) = session_list {
        list.close().await?;
    }
    Ok(())
}

/// Listens on `host:port`; with `reuse_port`, beside other processes listening there
/// too (`SO_REUSEPORT`: the kernel spreads the connections among them).
async fn listen(host: &str, port: u16, reuse_port: bool) -> std::io::Result<TcpListener> {
    if !reuse_port {
        return TcpListener::bind((host, port)).await;
    }
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for address in tokio::net::lookup_host((host, port)).await? {
        let socket = if address.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        #[cfg(unix)]
        socket.set_reuseport(true)?;
        match socket.bind(address) {
            Ok(()) => return socket.listen(1024),
            Err(err) => last = err,
        }
    }
    Err(last)
}

/// Accepts connections for ever, each served by its own task.
async fn accept(
    listener: TcpListener,
    broker: Arc<Broker>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        match listener.accept().await {
            Ok((socket, peer)) => {
                tokio::spawn(connection::serve(broker.clone(), socket, peer, tls.clone()));
            }
            Err(err) => tracing::warn!("cannot accept a connection: {err}"),
        }
    }
}

/// Resolves at SIGINT or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
