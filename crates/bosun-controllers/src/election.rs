//! Leader election for the controllers, as kube-controller-manager does it: one Lease
//! (`kube-system/bosun-controllers`) held by one server at a time, so that several servers over
//! one etcd run one set of controllers.
//!
//! A candidate takes the Lease when it does not exist, or when the Lease's record has not changed
//! for a whole lease duration as measured on the candidate's own clock (so machines' clocks need
//! not agree). The holder renews every retry period; a holder that cannot renew within the renew
//! deadline has lost the Lease, and says so: its caller must stop its controllers (a `Cluster`
//! closes its store, and `bosun serve` exits, as kube-controller-manager does).
//! Every write is a compare-and-swap on the Lease's resourceVersion.

use std::time::{Duration, SystemTime};

use bosun_api::api::{Api, Subresource, WriteOptions};
use bosun_api::meta;
use bosun_api::registry::{self, ResourceType};
use bosun_api::status::Status;
use serde_json::{Value, json};

/// How an election is run.
#[derive(Debug, Clone)]
pub struct ElectionConfig {
    /// This candidate's name in the Lease (`holderIdentity`): unique per process.
    pub identity: String,
    /// The Lease's namespace. Default: `kube-system`.
    pub namespace: String,
    /// The Lease's name. Default: `bosun-controllers`.
    pub name: String,
    /// How long a record must stay unchanged before another candidate takes it. Default: 15 s.
    pub lease_duration: Duration,
    /// How long the holder keeps trying to renew before it gives up. Default: 10 s.
    pub renew_deadline: Duration,
    /// How often candidates try and the holder renews. Default: 2 s.
    pub retry_period: Duration,
}

impl ElectionConfig {
    /// kube-controller-manager's defaults (15 s, 10 s, 2 s) for the candidate `identity`.
    pub fn new(identity: impl Into<String>) -> Self {
        ElectionConfig {
            identity: identity.into(),
            namespace: "kube-system".into(),
            name: "bosun-controllers".into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// Why [`run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElectionEnd {
    /// This process held the Lease and could not renew it in time: another may hold it now.
    Lost,
    /// The store closed (the process is shutting down).
    StoreClosed,
}

fn leases() -> &'static ResourceType {
    registry::find("coordination.k8s.io", "v1", "leases").expect("leases are registered")
}

/// Campaigns for the Lease, calls `lead` once this process holds it, and renews it until it
/// cannot. `lead` runs at most once.
pub async fn run(api: Api, config: ElectionConfig, lead: impl FnOnce()) -> ElectionEnd {
    let mut candidate = Candidate { api, config, observed: None };
    loop {
        if candidate.api.store().is_closed() {
            return ElectionEnd::StoreClosed;
        }
        if candidate.try_acquire_or_renew().await {
            break;
        }
        candidate.pause().await;
    }
    tracing::info!(identity = %candidate.config.identity, "this server holds the controllers' lease; starting them");
    lead();
    let mut renewed = candidate.api.clock().now();
    loop {
        candidate.pause().await;
        if candidate.api.store().is_closed() {
            return ElectionEnd::StoreClosed;
        }
        let now = candidate.api.clock().now();
        if candidate.try_acquire_or_renew().await {
            renewed = now;
        } else if now.duration_since(renewed).unwrap_or_default() > candidate.config.renew_deadline {
            tracing::error!(identity = %candidate.config.identity, "could not renew the controllers' lease in time");
            return ElectionEnd::Lost;
        }
    }
}

/// Hands the Lease over at a clean stop, as client-go's `ReleaseOnCancel`: if `config`'s
/// candidate holds it, its holder is cleared, so another server takes it at its next try rather
/// than after the lease duration. Call it once the controllers have stopped (their store closed).
/// Returns whether this candidate held the Lease.
pub async fn release(api: &Api, config: &ElectionConfig) -> Result<bool, Status> {
    let (namespace, name) = (config.namespace.as_str(), config.name.as_str());
    let mut lease = match api.get(leases(), namespace, name).await {
        Ok(lease) => lease,
        Err(status) if status.code == 404 => return Ok(false),
        Err(status) => return Err(status),
    };
    if lease["spec"]["holderIdentity"].as_str() != Some(config.identity.as_str()) {
        return Ok(false);
    }
    lease["spec"]["holderIdentity"] = Value::Null;
    lease["spec"]["leaseDurationSeconds"] = json!(1);
    lease["spec"]["renewTime"] = json!(micro_time(api.clock().now()));
    let options = WriteOptions { field_manager: Some("bosun-leader-election".into()), ..WriteOptions::default() };
    match api.update(leases(), namespace, name, Subresource::Main, lease, &options).await {
        Ok(_) => Ok(true),
        // Taken meanwhile (it had expired): nothing left to hand over.
        Err(status) if status.code == 409 => Ok(false),
        Err(status) => Err(status),
    }
}

struct Candidate {
    api: Api,
    config: ElectionConfig,
    /// The Lease record last seen (its resourceVersion), and when this candidate first saw it.
    observed: Option<(String, SystemTime)>,
}

impl Candidate {
    async fn pause(&self) {
        let clock = self.api.clock();
        let deadline = clock.now() + self.config.retry_period;
        tokio::select! {
            () = clock.sleep_until(deadline) => {}
            () = self.api.store().closed() => {}
        }
    }

    /// One round: whether this candidate holds the Lease afterwards.
    async fn try_acquire_or_renew(&mut self) -> bool {
        match self.attempt().await {
            Ok(held) => held,
            Err(status) => {
                tracing::warn!(identity = %self.config.identity, %status.message, "the controllers' lease could not be read or written");
                false
            }
        }
    }

    async fn attempt(&mut self) -> Result<bool, Status> {
        let (namespace, name) = (self.config.namespace.as_str(), self.config.name.as_str());
        let now = self.api.clock().now();
        let options = WriteOptions { field_manager: Some("bosun-leader-election".into()), ..WriteOptions::default() };
        let lease = match self.api.get(leases(), namespace, name).await {
            Ok(lease) => lease,
            Err(status) if status.code == 404 => {
                let body = json!({
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": self.spec(now, now, 0),
                });
                return match self.api.create(leases(), namespace, body, &options).await {
                    Ok(_) => Ok(true),
                    Err(status) if status.code == 409 => Ok(false),
                    Err(status) => Err(status),
                };
            }
            Err(status) => return Err(status),
        };
        let version = meta::resource_version(&lease).to_string();
        let first_seen = match &self.observed {
            Some((seen, at)) if *seen == version => *at,
            _ => now,
        };
        self.observed = Some((version, first_seen));
        let spec = &lease["spec"];
        let holder = spec["holderIdentity"].as_str().unwrap_or_default();
        let ours = holder == self.config.identity;
        let duration = spec["leaseDurationSeconds"].as_u64().map_or(self.config.lease_duration, Duration::from_secs);
        if !ours && !holder.is_empty() && now < first_seen + duration {
            return Ok(false);
        }
        let transitions = spec["leaseTransitions"].as_i64().unwrap_or(0);
        let acquired = if ours { spec["acquireTime"].as_str().and_then(meta::parse_time).unwrap_or(now) } else { now };
        let mut next = lease.clone();
        next["spec"] = self.spec(acquired, now, if ours { transitions } else { transitions + 1 });
        // The body's resourceVersion makes the update a compare-and-swap.
        match self.api.update(leases(), namespace, name, Subresource::Main, next, &options).await {
            Ok(written) => {
                self.observed = Some((meta::resource_version(&written).to_string(), now));
                Ok(true)
            }
            Err(status) if status.code == 409 => Ok(false),
            Err(status) => Err(status),
        }
    }

    fn spec(&self, acquired: SystemTime, renewed: SystemTime, transitions: i64) -> Value {
        json!({
            "holderIdentity": self.config.identity,
            "leaseDurationSeconds": self.config.lease_duration.as_secs().max(1),
            "acquireTime": micro_time(acquired),
            "renewTime": micro_time(renewed),
            "leaseTransitions": transitions,
        })
    }
}

/// A Lease's MicroTime: RFC 3339 with six fractional digits.
fn micro_time(time: SystemTime) -> String {
    let micros = time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_micros());
    meta::format_time(time).replace('Z', &format!(".{micros:06}Z"))
}
