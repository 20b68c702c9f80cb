//! The part of WASI 0.2 a plugin gets: what the guest toolchains (Rust's std, wasi-libc,
//! componentize-py, componentize-js) import to start, with nothing granted behind it.
//!
//! - No files (no preopened directories), no environment, no arguments, an empty stdin.
//! - No network: the socket interfaces are linked because componentize-py components import
//!   them, but TCP, UDP and name lookup are switched off, so creating a socket or looking a
//!   name up fails with access denied before the host makes any socket, and every address
//!   is refused. HTTP is not linked at all.
//! - stdout and stderr go to in-memory pipes that keep only their last bytes, so a chatty
//!   plugin costs a bounded amount of memory and its last words (a panic message, a Python
//!   traceback) can be shown in a fault report.
//! - Blocking is bounded by the call's deadline: `wasi:io/poll` is the host's own, and a
//!   poll (a sleep, a wait on a timer) that would outlast the deadline returns a trap the
//!   runtime reports as a timeout. Epoch interruption cannot stop a plugin that waits
//!   inside the host, so this is what makes deadlines hold there.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream, WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::sync::io::poll as sync_poll;
use wasmtime_wasi::p2::{DynPollable, OutputStream, Pollable, StreamResult};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_io::bindings::wasi::io::poll as async_poll;

use super::HostState;

/// Bytes of stderr kept per instance, for fault reports.
pub(crate) const STDERR_BYTES: usize = 16 * 1024;
/// Bytes of stdout kept per instance; nobody reads them, but a plugin may print.
const STDOUT_BYTES: usize = 4 * 1024;

/// A plugin instance's WASI: its context, its resource table and its output pipes.
pub(crate) struct WasiState {
    ctx: WasiCtx,
    table: ResourceTable,
    pub(crate) stderr: TailPipe,
}

impl WasiState {
    pub(crate) fn new() -> Self {
        let stderr = TailPipe::new(STDERR_BYTES);
        // Nothing is granted: no files, no environment, no arguments, no network. Stdin is
        // closed (the builder's default).
        let ctx = WasiCtxBuilder::new()
            .stdout(TailPipe::new(STDOUT_BYTES))
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            ctx,
            table: ResourceTable::new(),
            stderr,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi.ctx,
            table: &mut self.wasi.table,
        }
    }
}

/// The error a blocking WASI call returns when the call's deadline passes while it waits;
/// the runtime reports it as [`crate::Fault::Timeout`].
#[derive(Debug)]
pub(crate) struct DeadlineInWasi;

impl std::fmt::Display for DeadlineInWasi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the call's deadline passed while the plugin was blocked in wasi:io/poll")
    }
}

impl std::error::Error for DeadlineInWasi {}

/// `wasi:io/poll` bounded by the call's deadline.
struct BoundedPoll<'a> {
    table: &'a mut ResourceTable,
    deadline: Option<Instant>,
}

struct Poll;

impl HasData for Poll {
    type Data<'a> = BoundedPoll<'a>;
}

/// Runs a wait of wasmtime-wasi's poll implementation, cut at the deadline. The runtime never
/// calls a plugin from a thread inside a tokio runtime (see `Session::call`), so `in_tokio`
/// runs it on wasmtime-wasi's own runtime rather than blocking a caller's.
fn wait<F: std::future::Future>(deadline: Option<Instant>, wait: F) -> wasmtime::Result<F::Output> {
    wasmtime_wasi::runtime::in_tokio(async move {
        match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.into(), wait)
                .await
                .map_err(|_| wasmtime::Error::new(DeadlineInWasi)),
            None => Ok(wait.await),
        }
    })
}

impl sync_poll::Host for BoundedPoll<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        wait(self.deadline, async_poll::Host::poll(self.table, pollables))?
    }
}

impl sync_poll::HostPollable for BoundedPoll<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        wait(
            self.deadline,
            async_poll::HostPollable::ready(self.table, pollable),
        )?
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        wait(
            self.deadline,
            async_poll::HostPollable::block(self.table, pollable),
        )?
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        async_poll::HostPollable::drop(self.table, pollable)
    }
}

/// Links the WASI subset. Each interface is linked on its own, so what is left out (HTTP,
/// any later proposal) is simply not there: a plugin importing it fails to load.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random, sockets, sync};
    let l = linker;
    wasmtime_wasi_io::bindings::wasi::io::error::add_to_linker::<HostState, Table>(l, |s| {
        &mut s.wasi.table
    })?;
    sync::io::streams::add_to_linker::<HostState, Table>(l, |s| &mut s.wasi.table)?;
    sync::io::poll::add_to_linker::<HostState, Poll>(l, |s| BoundedPoll {
        table: &mut s.wasi.table,
        deadline: s.deadline,
    })?;
    clocks::wall_clock::add_to_linker::<HostState, WasiClocks>(l, HostState::clocks)?;
    clocks::monotonic_clock::add_to_linker::<HostState, WasiClocks>(l, HostState::clocks)?;
    random::random::add_to_linker::<HostState, WasiRandom>(l, HostState::random)?;
    random::insecure::add_to_linker::<HostState, WasiRandom>(l, HostState::random)?;
    random::insecure_seed::add_to_linker::<HostState, WasiRandom>(l, HostState::random)?;
    cli::exit::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::environment::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stdin::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stdout::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stderr::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_input::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_output::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stdin::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stdout::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stderr::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    // The guests' standard libraries import the file system to start; with no preopened
    // directory there is no descriptor to use it with.
    filesystem::preopens::add_to_linker::<HostState, WasiFilesystem>(l, HostState::filesystem)?;
    sync::filesystem::types::add_to_linker::<HostState, WasiFilesystem>(l, HostState::filesystem)?;
    // Denied in the context (see `WasiState::new`); linked so that Python components load.
    let network = sockets::network::LinkOptions::default();
    sockets::network::add_to_linker::<HostState, WasiSockets>(l, &network, HostState::sockets)?;
    sockets::instance_network::add_to_linker::<HostState, WasiSockets>(l, HostState::sockets)?;
    sockets::ip_name_lookup::add_to_linker::<HostState, WasiSockets>(l, HostState::sockets)?;
    sockets::tcp_create_socket::add_to_linker::<HostState, WasiSockets>(l, HostState::sockets)?;
    sync::sockets::tcp::add_to_linker::<HostState, WasiSockets>(l, HostState::sockets)?;
    sync::sockets::udp_create_socket::add_to_linker::<HostState, WasiSockets>(
        l,
        HostState::sockets,
    )?;
    sync::sockets::udp::add_to_linker::<HostState, WasiSockets>(l, HostState::sockets)?;
    Ok(())
}

struct Table;

impl HasData for Table {
    type Data<'a> = &'a mut ResourceTable;
}

/// An output pipe that keeps the last `capacity` bytes written to it and drops the rest.
/// Writes never fail and never block, so printing cannot trap a plugin or stall the host.
#[derive(Clone)]
pub(crate) struct TailPipe {
    capacity: usize,
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl TailPipe {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            buffer: Arc::default(),
        }
    }

    /// The last bytes written, at most the capacity.
    pub(crate) fn contents(&self) -> Vec<u8> {
        let buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        buffer[buffer.len().saturating_sub(self.capacity)..].to_vec()
    }

    fn push(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = &bytes[bytes.len().saturating_sub(self.capacity)..];
        buffer.extend_from_slice(bytes);
        // Trim in amortised steps: drop the front once the buffer holds twice the capacity.
        if buffer.len() > 2 * self.capacity {
            let cut = buffer.len() - self.capacity;
            buffer.drain(..cut);
        }
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for TailPipe {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for TailPipe {
    async fn ready(&mut self) {}
}

impl IsTerminal for TailPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for TailPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for TailPipe {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.push(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_pipes_keep_the_last_bytes() {
        let pipe = TailPipe::new(4);
        for chunk in [&b"hello"[..], b" wor", b"ld"] {
            pipe.push(chunk);
        }
        assert_eq!(pipe.contents(), b"orld");
        pipe.push(&[b'x'; 100]);
        assert_eq!(pipe.contents(), b"xxxx");
    }
}
