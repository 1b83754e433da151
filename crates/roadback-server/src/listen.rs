//! Accepting connections: HTTP/1.1 with a deadline for a request's headers, at most a
//! configured number of connections at once (a WebSocket keeps its connection's place, so open
//! subscriptions count), and a graceful stop that waits for every place to come back.
//!
//! `axum::serve` has neither a header deadline nor a limit: one client sending headers a byte
//! a minute kept the server from stopping, and a few hundred such clients used up its file
//! descriptors.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

/// What a server accepts.
#[derive(Clone, Copy, Debug)]
pub struct Connections {
    /// Connections (and WebSockets) open at once; further clients wait to be accepted.
    pub max: usize,
    /// How long a client may take to send a request's headers (also how long an idle
    /// keep-alive connection stays open).
    pub header_timeout: Duration,
}

/// A connection's place among the limited ones, in every request's extensions: a WebSocket
/// upgrade takes it over and keeps it while the socket is open.
#[derive(Clone, Debug)]
pub struct Place(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl Place {
    /// The place, taken from the connection (None when taken already).
    pub fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.lock().ok().and_then(|mut p| p.take())
    }
}

/// Serves `app` on `listener` until `stop` resolves, then lets each connection finish its
/// request in flight and returns once every connection and WebSocket has closed. Bound the
/// wait with a timeout: a client may never finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Connections,
    stop: impl Future<Output = ()>,
) {
    let places = Arc::new(Semaphore::new(limits.max));
    let (stopping, stopped) = watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    loop {
        let place = tokio::select! {
            place = places.clone().acquire_owned() => place.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let (stream, address) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a little rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        tokio::spawn(connection(
            stream,
            address,
            app.clone(),
            Place(Arc::new(Mutex::new(Some(place)))),
            limits.header_timeout,
            stopped.clone(),
        ));
    }
    drop(listener);
    let _ = stopping.send(true);
    // Every place back: every connection and WebSocket closed.
    let _ = places.acquire_many(limits.max as u32).await;
}

async fn connection(
    stream: tokio::net::TcpStream,
    address: SocketAddr,
    app: Router,
    place: Place,
    header_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let requests = place.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request.extensions_mut().insert(ConnectInfo(address));
        request.extensions_mut().insert(requests.clone());
        app.clone().oneshot(request)
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let connection = http
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        served = connection.as_mut() => {
            if let Err(error) = served {
                tracing::debug!(%error, %address, "connection ended");
            }
        }
        () = async { let _ = stopped.wait_for(|stopping| *stopping).await; } => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
    // The place comes back here, unless a WebSocket took it over.
    drop(place);
}
