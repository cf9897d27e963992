//! Instances in the fake RDS: how one looks at an instant (`creating` until its delay has
//! passed, `deleting` until it is gone), the members they make of their cluster (the oldest is
//! the writer), and their creation and deletion as RDS allows them.

use super::clusters::refuse_unless_running;
use super::{not_found, rds_error, FakeRds, RdsState};
use crate::domain::{capacity, Instance, InstanceRequest, InstanceStatus, Member, Tags};
use crate::error::AwsError;
use crate::ports::{Created, Deletion};
use std::time::Duration;
use tokio::time::Instant;

pub(super) const CREATE: &str = "CreateDBInstance";

#[derive(Debug, Clone)]
pub(super) struct FakeInstance {
    pub(super) instance: Instance,
    created: Instant,
    available_at: Instant,
    gone_at: Option<Instant>,
    pub(super) tags: Tags,
    /// A rename in flight.
    pub(super) lag: super::rename::Lag,
}

impl FakeInstance {
    /// An instance created at `now` that becomes available `delay` later.
    pub(super) fn new(instance: Instance, tags: Tags, now: Instant, delay: Duration) -> Self {
        FakeInstance {
            instance,
            created: now,
            available_at: now + delay,
            gone_at: None,
            tags,
            lag: Default::default(),
        }
    }
}

impl RdsState {
    /// The cluster's instances, oldest first: the first is the writer, the rest readers.
    pub(super) fn members(&self, id: &str, now: Instant) -> Vec<Member> {
        let mut mine: Vec<&FakeInstance> = self
            .instances
            .values()
            .filter(|i| i.instance.cluster_id.as_deref() == Some(id))
            .filter(|i| i.gone_at.is_none_or(|g| g > now))
            .collect();
        mine.sort_by_key(|i| (i.created, i.instance.id.clone()));
        mine.iter()
            .enumerate()
            .map(|(n, i)| Member {
                instance_id: i.instance.id.clone(),
                writer: n == 0,
            })
            .collect()
    }

    /// The instance as it looks at `now`, or `None` once gone.
    pub(super) fn instance_view(&self, id: &str, now: Instant) -> Option<Instance> {
        let fi = self.instances.get(id)?;
        if fi.gone_at.is_some_and(|g| g <= now) || fi.lag.hidden(now) {
            return None;
        }
        let mut i = fi.instance.clone();
        if fi.gone_at.is_some() {
            i.status = InstanceStatus::Deleting;
        } else if fi.available_at > now {
            i.status = InstanceStatus::Creating;
        } else if fi.lag.renaming(now) {
            i.status = InstanceStatus::Renaming;
        }
        Some(i)
    }

    /// As RDS: no instance in a cluster that is gone or deleting, and a Serverless v2 instance
    /// only in a cluster with a scaling configuration.
    fn admits_instance(&self, r: &InstanceRequest, now: Instant) -> Result<(), AwsError> {
        match self.view(&r.cluster_id, now) {
            None => Err(not_found(CREATE, &format!("cluster {}", r.cluster_id))),
            Some(c) if c.status.is_deleting() => Err(rds_error(
                CREATE,
                "InvalidDBClusterStateFault",
                "cluster is deleting",
            )),
            Some(c) if r.class == capacity::SERVERLESS && c.capacity.is_none() => Err(rds_error(
                CREATE,
                "InvalidParameterCombination",
                "Set the Serverless v2 scaling configuration on the cluster first",
            )),
            Some(_) => Ok(()),
        }
    }
}

impl FakeRds {
    pub(super) fn create_instance_in(
        &self,
        st: &mut RdsState,
        r: &InstanceRequest,
        now: Instant,
    ) -> Result<Created, AwsError> {
        let id = r.instance_id.to_ascii_lowercase();
        if st.instance_view(&id, now).is_some() || st.instance_held(&id, now) {
            return Ok(Created::Exists);
        }
        st.admits_instance(r, now)?;
        let instance = Instance {
            id: id.clone(),
            cluster_id: Some(r.cluster_id.clone()),
            status: InstanceStatus::Available,
            class: r.class.clone(),
            settings: r.settings.clone(),
        };
        let fake = FakeInstance::new(instance, r.tags.clone(), now, self.instance_delay);
        st.instances.insert(id, fake);
        Ok(Created::New(()))
    }

    pub(super) fn delete_instance_in(
        &self,
        st: &mut RdsState,
        id: &str,
        now: Instant,
    ) -> Result<Deletion, AwsError> {
        let cluster = st
            .instances
            .get(id)
            .and_then(|i| i.instance.cluster_id.clone());
        if let Some(c) = cluster.and_then(|c| st.view(&c, now)) {
            refuse_unless_running("DeleteDBInstance", &c.status)?;
        }
        match st.instances.get_mut(id) {
            Some(i) if i.gone_at.is_none() => {
                i.gone_at = Some(now + self.delete_delay);
                Ok(Deletion::Started)
            }
            Some(i) if i.gone_at.is_some_and(|g| g > now) => Ok(Deletion::Started),
            _ => Ok(Deletion::AlreadyGone),
        }
    }
}
