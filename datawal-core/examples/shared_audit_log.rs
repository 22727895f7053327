//! A threaded audit log: request handlers on eight threads each write an
//! audit event and wait until it is durable before answering, sharing the
//! `fdatasync`s through group commit (`SharedLog::append_durable`); a
//! reporter thread reads the log while they write.
//!
//! `cargo run -p datawal-core --example shared_audit_log`

use std::time::Instant;

use datawal_core::SharedLog;

const HANDLERS: usize = 8;
const REQUESTS: usize = 50;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let log = SharedLog::open(dir.path())?;

    let start = Instant::now();
    std::thread::scope(|s| -> datawal_core::Result<()> {
        let handlers: Vec<_> = (0..HANDLERS)
            .map(|h| {
                let log = log.clone();
                s.spawn(move || -> datawal_core::Result<()> {
                    for r in 0..REQUESTS {
                        let event = format!(r#"{{"handler":{h},"request":{r},"action":"login"}}"#);
                        // Returns once this event (and every event appended
                        // before it) survives a power cut.
                        log.append_durable(event.as_bytes())?;
                    }
                    Ok(())
                })
            })
            .collect();
        // Reads never wait for a sync in progress.
        let seen = log.scan_iter()?.count();
        println!("reporter saw {seen} events while the handlers wrote");
        for h in handlers {
            h.join().expect("handler thread")?;
        }
        Ok(())
    })?;
    let elapsed = start.elapsed();

    let events = log.scan()?;
    println!(
        "{} durable events from {HANDLERS} threads in {:.0} ms ({:.0} events/s)",
        events.len(),
        elapsed.as_secs_f64() * 1e3,
        events.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "last: {}",
        String::from_utf8_lossy(&events.last().ok_or("empty log")?.payload)
    );
    Ok(())
}
