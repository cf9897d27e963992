//! The `Rds` port over aws-sdk-rds.

use super::{is_not_found, sdk_error};
use crate::domain::capacity::Capacity;
use crate::domain::{
    Cluster, Instance, InstanceRequest, Member, RestoreRequest, RestoreType, Tags,
};
use crate::error::AwsError;
use crate::ports::{Created, Deletion, Rds, Renaming};
use async_trait::async_trait;
use aws_sdk_rds::types::{DbCluster, DbInstance, Filter, Tag};
use aws_sdk_rds::Client;
use time::OffsetDateTime;

pub struct SdkRds {
    client: Client,
}

impl SdkRds {
    pub fn new(client: Client) -> SdkRds {
        SdkRds { client }
    }

    /// DescribeDBInstances, every page, optionally filtered.
    async fn describe_instances(&self, filter: Option<Filter>) -> Result<Vec<Instance>, AwsError> {
        let call = self
            .client
            .describe_db_instances()
            .max_records(100)
            .set_filters(filter.map(|f| vec![f]));
        let mut pages = call.into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("DescribeDBInstances", e))?;
            out.extend(page.db_instances().iter().filter_map(to_instance));
        }
        Ok(out)
    }
}

fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn to_time(t: Option<&aws_smithy_types::DateTime>) -> Option<OffsetDateTime> {
    t.and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
}

/// Converts an SDK cluster into the domain's; clusters without an identifier are skipped.
pub fn to_cluster(c: &DbCluster) -> Option<Cluster> {
    Some(Cluster {
        id: c.db_cluster_identifier()?.to_string(),
        arn: c.db_cluster_arn().unwrap_or_default().to_string(),
        status: c.status().unwrap_or("unknown").into(),
        engine: c.engine().unwrap_or_default().to_string(),
        endpoint: c.endpoint().map(str::to_string),
        reader_endpoint: c.reader_endpoint().map(str::to_string),
        port: c.port(),
        members: c
            .db_cluster_members()
            .iter()
            .filter_map(|m| {
                Some(Member {
                    instance_id: m.db_instance_identifier()?.to_string(),
                    writer: m.is_cluster_writer().unwrap_or(false),
                })
            })
            .collect(),
        subnet_group: c.db_subnet_group().map(str::to_string),
        security_groups: c
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
            .collect(),
        tags: c
            .tag_list()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        clone_group_id: c.clone_group_id().map(str::to_string),
        created: to_time(c.cluster_create_time()),
        master_username: c.master_username().map(str::to_string),
        database_name: c.database_name().map(str::to_string),
        capacity: c.serverless_v2_scaling_configuration().and_then(|s| {
            Some(crate::domain::capacity::Capacity {
                min: s.min_capacity()?,
                max: s.max_capacity()?,
            })
        }),
        engine_version: c.engine_version().map(str::to_string),
        password_pending: c
            .pending_modified_values()
            .and_then(|p| p.master_user_password())
            .is_some(),
        deletion_protection: c.deletion_protection().unwrap_or(false),
        settings: crate::domain::ClusterSettings {
            parameter_group: c.db_cluster_parameter_group().map(str::to_string),
            iam_auth: c.iam_database_authentication_enabled().unwrap_or(false),
            log_exports: c.enabled_cloudwatch_logs_exports().to_vec(),
        },
        deed: None,
    })
}

fn to_instance(i: &DbInstance) -> Option<Instance> {
    Some(Instance {
        id: i.db_instance_identifier()?.to_string(),
        cluster_id: i.db_cluster_identifier().map(str::to_string),
        status: i.db_instance_status().unwrap_or("unknown").into(),
        class: i.db_instance_class().unwrap_or_default().to_string(),
        settings: crate::domain::InstanceSettings {
            parameter_group: i
                .db_parameter_groups()
                .first()
                .and_then(|g| g.db_parameter_group_name())
                .map(str::to_string),
            ca_certificate: i.ca_certificate_identifier().map(str::to_string),
            publicly_accessible: i.publicly_accessible().unwrap_or(false),
        },
    })
}

#[async_trait]
impl Rds for SdkRds {
    async fn clusters(&self) -> Result<Vec<Cluster>, AwsError> {
        let mut pages = self
            .client
            .describe_db_clusters()
            .max_records(100)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("DescribeDBClusters", e))?;
            out.extend(page.db_clusters().iter().filter_map(to_cluster));
        }
        Ok(out)
    }

    async fn cluster(&self, id: &str) -> Result<Option<Cluster>, AwsError> {
        match self
            .client
            .describe_db_clusters()
            .db_cluster_identifier(id)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .db_clusters()
                .iter()
                .filter_map(to_cluster)
                .find(|c| c.id == id)),
            Err(e) => {
                let e = aws_error("DescribeDBClusters", e);
                if is_not_found(&e) {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn instances(&self, cluster_id: &str) -> Result<Vec<Instance>, AwsError> {
        let filter = Filter::builder()
            .name("db-cluster-id")
            .values(cluster_id)
            .build();
        self.describe_instances(Some(filter)).await
    }

    async fn quotas(&self) -> Result<crate::domain::Quotas, AwsError> {
        let out = self
            .client
            .describe_account_attributes()
            .send()
            .await
            .map_err(|e| aws_error("DescribeAccountAttributes", e))?;
        let find = |name: &str| {
            out.account_quotas()
                .iter()
                .find(|q| q.account_quota_name() == Some(name))
                .map(|q| {
                    (
                        q.used().unwrap_or(0).max(0) as u64,
                        q.max().unwrap_or(0).max(0) as u64,
                    )
                })
        };
        Ok(crate::domain::Quotas {
            clusters: find("DBClusters"),
            instances: find("DBInstances"),
        })
    }

    async fn all_instances(&self) -> Result<Vec<Instance>, AwsError> {
        self.describe_instances(None).await
    }

    async fn restore(&self, r: &RestoreRequest) -> Result<Created<Cluster>, AwsError> {
        let restore_type = match r.restore_type {
            RestoreType::CopyOnWrite => "copy-on-write",
            RestoreType::FullCopy => "full-copy",
        };
        let out = self
            .client
            .restore_db_cluster_to_point_in_time()
            .db_cluster_identifier(&r.cluster_id)
            .source_db_cluster_identifier(&r.source_cluster_id)
            .restore_type(restore_type)
            .use_latest_restorable_time(true)
            .set_db_subnet_group_name(r.subnet_group.clone())
            .set_vpc_security_group_ids(Some(r.security_groups.clone()))
            .set_tags(Some(to_tags(&r.tags)))
            .set_serverless_v2_scaling_configuration(r.capacity.map(|c| {
                aws_sdk_rds::types::ServerlessV2ScalingConfiguration::builder()
                    .min_capacity(c.min)
                    .max_capacity(c.max)
                    .build()
            }))
            .copy_tags_to_snapshot(false)
            .set_db_cluster_parameter_group_name(r.settings.parameter_group.clone())
            .enable_iam_database_authentication(r.settings.iam_auth)
            .set_enable_cloudwatch_logs_exports(
                (!r.settings.log_exports.is_empty()).then(|| r.settings.log_exports.clone()),
            )
            .send()
            .await
            .map_err(|e| aws_error("RestoreDBClusterToPointInTime", e));
        match out {
            Ok(out) => out
                .db_cluster()
                .and_then(to_cluster)
                .map(Created::New)
                .ok_or_else(|| {
                    AwsError::transient(
                        "RestoreDBClusterToPointInTime",
                        "EmptyResponse",
                        "no cluster in the response",
                    )
                }),
            Err(e) if e.code == "DBClusterAlreadyExistsFault" => Ok(Created::Exists),
            Err(e) => Err(e),
        }
    }

    async fn create_instance(&self, r: &InstanceRequest) -> Result<Created, AwsError> {
        let out = self
            .client
            .create_db_instance()
            .db_instance_identifier(&r.instance_id)
            .db_cluster_identifier(&r.cluster_id)
            .engine(&r.engine)
            .db_instance_class(&r.class)
            .set_tags(Some(to_tags(&r.tags)))
            .publicly_accessible(false)
            .set_db_parameter_group_name(r.settings.parameter_group.clone())
            .set_ca_certificate_identifier(r.settings.ca_certificate.clone())
            .send()
            .await
            .map_err(|e| aws_error("CreateDBInstance", e));
        match out {
            Ok(_) => Ok(Created::New(())),
            Err(e) if e.code == "DBInstanceAlreadyExists" => Ok(Created::Exists),
            Err(e) => Err(e),
        }
    }

    async fn delete_instance(&self, id: &str) -> Result<Deletion, AwsError> {
        let out = self
            .client
            .delete_db_instance()
            .db_instance_identifier(id)
            .skip_final_snapshot(true)
            .send()
            .await;
        deletion(
            out.map(|_| ())
                .map_err(|e| aws_error("DeleteDBInstance", e)),
        )
    }

    async fn delete_cluster(&self, id: &str) -> Result<Deletion, AwsError> {
        let out = self
            .client
            .delete_db_cluster()
            .db_cluster_identifier(id)
            .skip_final_snapshot(true)
            .send()
            .await;
        deletion(out.map(|_| ()).map_err(|e| aws_error("DeleteDBCluster", e)))
    }

    async fn set_master_password(&self, cluster_id: &str, password: &str) -> Result<(), AwsError> {
        self.client
            .modify_db_cluster()
            .db_cluster_identifier(cluster_id)
            .master_user_password(password)
            .apply_immediately(true)
            .send()
            .await
            .map_err(|e| aws_error("ModifyDBCluster", e))?;
        Ok(())
    }

    async fn stop_cluster(&self, id: &str) -> Result<(), AwsError> {
        match self
            .client
            .stop_db_cluster()
            .db_cluster_identifier(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Stopped or stopping already: what was asked for.
            Err(e) => match aws_error("StopDBCluster", e) {
                e if e.code == "InvalidDBClusterStateFault" && e.message.contains("stop") => Ok(()),
                e => Err(e),
            },
        }
    }

    async fn set_capacity(&self, cluster_id: &str, capacity: Capacity) -> Result<(), AwsError> {
        let range = aws_sdk_rds::types::ServerlessV2ScalingConfiguration::builder()
            .min_capacity(capacity.min)
            .max_capacity(capacity.max)
            .build();
        self.client
            .modify_db_cluster()
            .db_cluster_identifier(cluster_id)
            .serverless_v2_scaling_configuration(range)
            .apply_immediately(true)
            .send()
            .await
            .map_err(|e| aws_error("ModifyDBCluster", e))?;
        Ok(())
    }

    async fn start_cluster(&self, id: &str) -> Result<(), AwsError> {
        match self
            .client
            .start_db_cluster()
            .db_cluster_identifier(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Starting or running already: what was asked for.
            Err(e) => match aws_error("StartDBCluster", e) {
                e if e.code == "InvalidDBClusterStateFault" && !e.message.contains("stopping") => {
                    Ok(())
                }
                e => Err(e),
            },
        }
    }

    async fn rename_cluster(&self, id: &str, new_id: &str) -> Result<Renaming, AwsError> {
        super::rename::cluster(&self.client, id, new_id).await
    }

    async fn rename_instance(&self, id: &str, new_id: &str) -> Result<Renaming, AwsError> {
        super::rename::instance(&self.client, id, new_id).await
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        self.client
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(to_tags(tags)))
            .send()
            .await
            .map_err(|e| aws_error("AddTagsToResource", e))?;
        Ok(())
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.client
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| aws_error("RemoveTagsFromResource", e))?;
        Ok(())
    }
}

/// Maps a delete call's result: not found is done, a state fault means "not yet".
fn deletion(result: Result<(), AwsError>) -> Result<Deletion, AwsError> {
    match result {
        Ok(()) => Ok(Deletion::Started),
        Err(e) if is_not_found(&e) => Ok(Deletion::AlreadyGone),
        Err(e)
            if e.code.starts_with("InvalidDBClusterState")
                || e.code.starts_with("InvalidDBInstanceState") =>
        {
            Ok(Deletion::NotYet)
        }
        Err(e) => Err(e),
    }
}

/// RDS's own "not now": a cluster or instance in a state that refuses the call for the moment.
pub const RDS_NOT_NOW: &[&str] = &["InvalidDBClusterStateFault", "InvalidDBInstanceState"];

/// RDS's "not now" codes also carry refusals that waiting never lifts: a `db.serverless`
/// instance in a cluster without a Serverless v2 scaling configuration.
pub fn refusal_is_permanent(code: &str, message: &str) -> bool {
    code == "InvalidDBClusterStateFault" && message.to_ascii_lowercase().contains("serverless")
}

/// Converts an RDS SDK error: RDS's transient states are retryable too.
pub(super) fn aws_error<E>(
    operation: &'static str,
    err: aws_sdk_rds::error::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> AwsError
where
    E: aws_sdk_rds::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut e = sdk_error(operation, err, RDS_NOT_NOW);
    if refusal_is_permanent(&e.code, &e.message) {
        e.retryable = false;
    }
    e
}
