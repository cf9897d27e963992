//! Renames over RDS (`ModifyDBCluster`/`ModifyDBInstance` with a new identifier, applied at
//! once), read into `Renaming`: the codes that say "not there", "name taken" and "not now".

use super::rds::aws_error;
use crate::error::AwsError;
use crate::ports::Renaming;
use aws_sdk_rds::Client;

/// What an error code of a rename means, where it is one of the expected answers.
fn read(e: AwsError, missing: &str, taken: &str) -> Result<Renaming, AwsError> {
    match e.code.as_str() {
        c if c == missing => Ok(Renaming::Missing),
        c if c == taken => Ok(Renaming::Taken),
        "InvalidDBClusterStateFault" | "InvalidDBInstanceState" => Ok(Renaming::NotYet),
        _ => Err(e),
    }
}

pub(super) async fn cluster(client: &Client, id: &str, new_id: &str) -> Result<Renaming, AwsError> {
    let out = client
        .modify_db_cluster()
        .db_cluster_identifier(id)
        .new_db_cluster_identifier(new_id)
        .apply_immediately(true)
        .send()
        .await;
    match out {
        Ok(_) => Ok(Renaming::Started),
        Err(e) => read(
            aws_error("ModifyDBCluster", e),
            "DBClusterNotFoundFault",
            "DBClusterAlreadyExistsFault",
        ),
    }
}

pub(super) async fn instance(
    client: &Client,
    id: &str,
    new_id: &str,
) -> Result<Renaming, AwsError> {
    let out = client
        .modify_db_instance()
        .db_instance_identifier(id)
        .new_db_instance_identifier(new_id)
        .apply_immediately(true)
        .send()
        .await;
    match out {
        Ok(_) => Ok(Renaming::Started),
        Err(e) => read(
            aws_error("ModifyDBInstance", e),
            "DBInstanceNotFound",
            "DBInstanceAlreadyExists",
        ),
    }
}
