//! `cargo run -p session-demo`: serves the session demo on 127.0.0.1:8080.

use std::process::ExitCode;

use session_demo::{app, layer, load_config, DemoError, Options, USAGE};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("session-demo: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), DemoError> {
    let options = Options::parse(std::env::args().skip(1))?;
    if options.help {
        println!("{USAGE}");
        return Ok(());
    }
    let config = load_config(&options)?;
    let layer = layer(&config).await?;
    let addr = format!("127.0.0.1:{}", options.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| DemoError::Listen {
            addr: addr.clone(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map_err(|source| DemoError::Listen { addr, source })?;
    println!(
        "session demo (engine: {}) on http://{local}/  (Ctrl-C to stop)",
        config.provider
    );
    let router = app::router(layer.clone());
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async {
            if let Err(error) = tokio::signal::ctrl_c().await {
                tracing::error!(%error, "cannot listen for Ctrl-C; stop the demo with a signal");
                std::future::pending::<()>().await;
            }
            tracing::info!("Ctrl-C: finishing open requests");
        })
        .await;
    // The server is done with the router; stop the GC task and wait for a pass in progress.
    layer.shutdown_gc().await;
    served.map_err(|source| DemoError::Listen {
        addr: local.to_string(),
        source,
    })?;
    println!("session demo stopped");
    Ok(())
}
