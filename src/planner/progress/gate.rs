//! The preparation gate: with `Prepare`, a usable clone (password in force, readable by the
//! preparers alone) is not handed out until its preparer reports `ok`; then its readers become
//! `AccessPrincipalArns`, and only then is it answered SUCCESS and announced `instance-ready`.
//! A `failed` report, or none by `PrepareTimeout`, fails the request (and so removes the clone).

use super::{Pending, Ready, Request, Step};
use crate::domain::Cluster;
use crate::planner::action::Action;
use time::OffsetDateTime;

pub(super) fn prepared(
    req: &Request,
    ready: Ready,
    cluster: &Cluster,
    now: OffsetDateTime,
) -> Step {
    let Some(spec) = req.props.prepare.as_ref().filter(|_| !req.adopted) else {
        return Step::Ready(ready);
    };
    let Some(p) = req.preparation.filter(|p| p.event_sent) else {
        return Step::Prepare;
    };
    match &p.report {
        None if now.unix_timestamp() >= p.until => Step::Fail(format!(
            "the preparer of clone {} did not report within PrepareTimeout ({} s); the clone is removed",
            cluster.id,
            spec.timeout.as_secs()
        )),
        None => Step::Wait(Pending::on_clone(format!(
            "clone {} waits for its preparer (a clone-prepare event went out)",
            cluster.id
        ))),
        Some(r) if !r.ok => Step::Fail(format!(
            "the preparer of clone {} reported failure: {}; the clone is removed",
            cluster.id,
            r.reason.as_deref().unwrap_or("no reason given")
        )),
        Some(_) if !p.readers_set => Step::Act(Action::SetReaders {
            cluster: Box::new(cluster.clone()),
            readers: req.props.access_principal_arns.clone(),
        }),
        Some(_) => Step::Ready(ready),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::prepare::{Preparation, Report};
    use crate::domain::properties::CloneProperties;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-06 12:00 UTC);

    fn props() -> CloneProperties {
        CloneProperties::parse(&serde_json::json!({"SourceClusterId": "orders",
            "SetPassword": "true", "Prepare": "true", "PreparerArns": "arn:aws:iam::1:role/masker",
            "AccessPrincipalArns": "arn:aws:iam::1:role/dev"}))
        .expect("valid")
    }

    fn step(props: &CloneProperties, p: Option<&Preparation>) -> Step {
        let req = Request {
            props,
            cluster_id: "c",
            fallback_id: None,
            stack_id: "s",
            logical_id: "L",
            request_id: "r",
            deadline: NOW,
            adopted: false,
            preparation: p,
        };
        let ready = Ready {
            data: Default::default(),
            event: Box::new(crate::domain::events::InstanceReady::of(&Cluster::new(
                "c",
                "available",
            ))),
        };
        prepared(&req, ready, &Cluster::new("c", "available"), NOW)
    }

    fn asked(report: Option<Report>, until: i64, readers_set: bool) -> Preparation {
        Preparation {
            token_hash: "h".into(),
            until,
            event_sent: true,
            report,
            readers_set,
        }
    }

    #[test]
    fn nothing_is_handed_out_before_the_preparer_reports_ok() {
        let p = props();
        let later = NOW.unix_timestamp() + 60;
        assert_eq!(step(&p, None), Step::Prepare);
        let unsent = Preparation {
            event_sent: false,
            ..asked(None, later, false)
        };
        assert_eq!(
            step(&p, Some(&unsent)),
            Step::Prepare,
            "an unsent ask is asked again"
        );
        assert!(matches!(
            step(&p, Some(&asked(None, later, false))),
            Step::Wait(_)
        ));
        let late = asked(None, NOW.unix_timestamp(), false);
        assert!(matches!(step(&p, Some(&late)), Step::Fail(r) if r.contains("PrepareTimeout")));
        let failed = asked(
            Some(Report {
                ok: false,
                reason: Some("masking broke".into()),
            }),
            later,
            false,
        );
        assert!(matches!(step(&p, Some(&failed)), Step::Fail(r) if r.contains("masking broke")));
        let ok = Some(Report {
            ok: true,
            reason: None,
        });
        let Step::Act(Action::SetReaders { readers, .. }) =
            step(&p, Some(&asked(ok.clone(), later, false)))
        else {
            panic!("readers switched first")
        };
        assert_eq!(readers, vec!["arn:aws:iam::1:role/dev".to_string()]);
        assert!(matches!(
            step(&p, Some(&asked(ok, later, true))),
            Step::Ready(_)
        ));
    }
}
