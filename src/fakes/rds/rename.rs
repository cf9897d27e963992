//! Renames in the fake RDS, as RDS lags them: at once the cluster (or instance) is gone from
//! its old name, listed under neither name for `rename_gap`, then under the new one as
//! `renaming` until `rename_delay` has passed. Both names stay taken meanwhile. A cluster's
//! endpoint and ARN follow its name, and its instances stay its members.

use super::{not_found, FakeRds, RdsState};
use crate::domain::ClusterStatus;
use crate::error::AwsError;
use crate::ports::Renaming;
use tokio::time::Instant;

pub(super) const MODIFY_CLUSTER: &str = "ModifyDBCluster";
pub(super) const MODIFY_INSTANCE: &str = "ModifyDBInstance";

/// A rename in flight: hidden until the first instant, `renaming` until the second.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Lag {
    pub(super) hidden_until: Option<Instant>,
    pub(super) renaming_until: Option<Instant>,
}

impl Lag {
    pub(super) fn hidden(&self, now: Instant) -> bool {
        self.hidden_until.is_some_and(|t| now < t)
    }

    pub(super) fn renaming(&self, now: Instant) -> bool {
        self.renaming_until.is_some_and(|t| now < t)
    }
}

/// A cluster or an instance: RDS keeps their names apart (an instance may bear its cluster's
/// name), so a rename holds a name in its own namespace only.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Cluster,
    Instance,
}

impl RdsState {
    /// True while the cluster name `id` is held by a rename in flight (old name or new one).
    pub(super) fn cluster_held(&self, id: &str, now: Instant) -> bool {
        self.held_clusters.get(id).is_some_and(|t| now < *t)
    }

    /// True while the instance name `id` is held by a rename in flight.
    pub(super) fn instance_held(&self, id: &str, now: Instant) -> bool {
        self.held_instances.get(id).is_some_and(|t| now < *t)
    }

    fn cluster_taken(&self, id: &str, now: Instant) -> bool {
        self.cluster_held(id, now) || self.clusters.get(id).is_some_and(|c| !c.is_gone(now))
    }

    fn instance_taken(&self, id: &str, now: Instant) -> bool {
        self.instance_held(id, now)
            || self.instance_view(id, now).is_some()
            || self.instance_hidden(id, now)
    }

    fn instance_hidden(&self, id: &str, now: Instant) -> bool {
        self.instances.get(id).is_some_and(|i| i.lag.hidden(now))
    }
}

impl FakeRds {
    pub(super) fn rename_cluster_in(
        &self,
        st: &mut RdsState,
        id: &str,
        new_id: &str,
        now: Instant,
    ) -> Result<Renaming, AwsError> {
        let (id, new_id) = (id.to_ascii_lowercase(), new_id.to_ascii_lowercase());
        let Some(view) = st.view(&id, now) else {
            return Ok(Renaming::Missing);
        };
        if st.cluster_taken(&new_id, now) {
            return Ok(Renaming::Taken);
        }
        // RDS refuses with InvalidDBClusterStateFault, which the adapter reads as `NotYet`.
        if !view.status.is_available() {
            return Ok(Renaming::NotYet);
        }
        let Some(mut fc) = st.clusters.remove(&id) else {
            return Err(not_found(MODIFY_CLUSTER, &id));
        };
        fc.cluster.arn = fc
            .cluster
            .arn
            .replace(&format!(":cluster:{id}"), &format!(":cluster:{new_id}"));
        fc.cluster.id = new_id.clone();
        fc.cluster.endpoint = Some(format!("{new_id}.cluster-x.rds.local"));
        fc.cluster.reader_endpoint = Some(format!("{new_id}.cluster-ro-x.rds.local"));
        fc.lag = self.lag(now);
        st.clusters.insert(new_id.clone(), fc);
        for i in st.instances.values_mut() {
            if i.instance.cluster_id.as_deref() == Some(id.as_str()) {
                i.instance.cluster_id = Some(new_id.clone());
            }
        }
        // What RDS keeps on the cluster, not on its name, goes with it: its master password,
        // deletion protection, and a state a test holds it in.
        follow(&mut st.passwords, &id, &new_id);
        follow(&mut st.stuck, &id, &new_id);
        if st.protected.remove(&id) {
            st.protected.insert(new_id.clone());
        }
        self.hold(st, Kind::Cluster, [id, new_id], now);
        Ok(Renaming::Started)
    }

    pub(super) fn rename_instance_in(
        &self,
        st: &mut RdsState,
        id: &str,
        new_id: &str,
        now: Instant,
    ) -> Result<Renaming, AwsError> {
        let (id, new_id) = (id.to_ascii_lowercase(), new_id.to_ascii_lowercase());
        let Some(view) = st.instance_view(&id, now) else {
            return Ok(Renaming::Missing);
        };
        if st.instance_taken(&new_id, now) {
            return Ok(Renaming::Taken);
        }
        // RDS refuses with InvalidDBInstanceState, which the adapter reads as `NotYet`.
        if !view.status.is_available() {
            return Ok(Renaming::NotYet);
        }
        let Some(mut fi) = st.instances.remove(&id) else {
            return Err(not_found(MODIFY_INSTANCE, &format!("instance {id}")));
        };
        fi.instance.id = new_id.clone();
        fi.lag = self.lag(now);
        st.instances.insert(new_id.clone(), fi);
        self.hold(st, Kind::Instance, [id, new_id], now);
        Ok(Renaming::Started)
    }

    fn lag(&self, now: Instant) -> Lag {
        Lag {
            hidden_until: Some(now + self.rename_gap),
            renaming_until: Some(now + self.rename_delay),
        }
    }

    fn hold(&self, st: &mut RdsState, kind: Kind, names: [String; 2], now: Instant) {
        let held = match kind {
            Kind::Cluster => &mut st.held_clusters,
            Kind::Instance => &mut st.held_instances,
        };
        for name in names {
            held.insert(name, now + self.rename_delay);
        }
    }

    /// The master password last set on a cluster (it follows the cluster's renames).
    pub fn password_of(&self, cluster_id: &str) -> Option<String> {
        super::lock(&self.state).passwords.get(cluster_id).cloned()
    }
}

/// Moves what `map` keeps under `from` to `to`.
fn follow<V>(map: &mut std::collections::HashMap<String, V>, from: &str, to: &str) {
    if let Some(v) = map.remove(from) {
        map.insert(to.to_string(), v);
    }
}

/// The status a cluster in a rename shows, once it is listed again.
pub(super) fn renaming_status() -> ClusterStatus {
    ClusterStatus::Renaming
}
