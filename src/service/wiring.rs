//! Builds every flow from the ports, once per process: the Lambda and the CLI share it. Each
//! flow gets only the ports and the flows it uses, so the wiring below is also the map of who
//! may call whom (always down: the applier and the ledger at the bottom, the front doors'
//! entry points at the top).

use super::advance::Advance;
use super::answer::Answers;
use super::apply::Applier;
use super::credentials::Credentials;
use super::expiry::Expiries;
use super::follow_up::FollowUp;
use super::lease::Leases;
use super::ledger::Deeds;
use super::maintain::Maintain;
use super::place::Place;
use super::reap::Reaper;
use super::receive::Receive;
use super::refresh::Refresh;
use super::revise::Revise;
use super::rule::Rule;
use super::sources::Sources;
use super::sweep::Sweep;
use super::teardown::Teardown;
use super::vet::Vet;
use super::{Core, Ports};
use crate::clock::Clock;
use crate::config::Settings;
use std::sync::Arc;

/// The flows the front doors call: a CloudFormation request, a follow-up, maintenance, the
/// sweep, expiry, the ledger (observing, `adopt`), answers, and the maintenance config.
#[derive(Clone)]
pub struct Flows {
    pub core: Core,
    pub receive: Arc<Receive>,
    pub follow_up: Arc<FollowUp>,
    pub maintain: Arc<Maintain>,
    pub sweep: Arc<Sweep>,
    pub expiry: Arc<Expiries>,
    pub deeds: Arc<Deeds>,
    pub answers: Arc<Answers>,
    pub sources: Arc<Sources>,
    pub reaper: Arc<Reaper>,
    pub refresh: Arc<Refresh>,
    pub prepared: Arc<super::prepare::Prepared>,
}

/// The flows below the front doors' entry points.
struct Base {
    deeds: Arc<Deeds>,
    leases: Arc<Leases>,
    rule: Arc<Rule>,
    sources: Arc<Sources>,
    applier: Arc<Applier>,
    reaper: Arc<Reaper>,
    answers: Arc<Answers>,
    expiry: Arc<Expiries>,
}

impl Flows {
    pub fn new(settings: Settings, ports: Ports, clock: Clock) -> Flows {
        let core = Core::new(settings, clock);
        let base = Base::new(&core, &ports);
        let advance = advance(&core, &ports, &base);
        let receive = Arc::new(Receive {
            core: core.clone(),
            state: ports.state.clone(),
            rule: base.rule.clone(),
            answers: base.answers.clone(),
            place: advance.place.clone(),
            vet: advance.vet.clone(),
            advance: advance.clone(),
        });
        let sweep = Arc::new(Sweep {
            core: core.clone(),
            state: ports.state.clone(),
            stacks: ports.stacks.clone(),
            leases: base.leases.clone(),
            reaper: base.reaper.clone(),
            applier: base.applier.clone(),
        });
        let maintain = Arc::new(Maintain {
            core: core.clone(),
            rds: ports.rds.clone(),
            state: ports.state.clone(),
            applier: base.applier.clone(),
            deeds: base.deeds.clone(),
            expiry: base.expiry.clone(),
            leases: base.leases.clone(),
            reaper: base.reaper.clone(),
            rule: base.rule.clone(),
            sources: base.sources.clone(),
            sweep: sweep.clone(),
        });
        let refresh = Arc::new(Refresh {
            core: core.clone(),
            rds: ports.rds.clone(),
            refreshes: ports.refreshes.clone(),
            secrets: ports.secrets.clone(),
            state: ports.state.clone(),
            deeds: base.deeds.clone(),
            applier: base.applier.clone(),
            place: advance.place.clone(),
            leases: base.leases.clone(),
            rule: base.rule.clone(),
        });
        let prepared = Arc::new(super::prepare::Prepared {
            core: core.clone(),
            state: ports.state.clone(),
            refreshes: ports.refreshes.clone(),
            rule: base.rule.clone(),
        });
        let follow_up = Arc::new(FollowUp {
            core: core.clone(),
            state: ports.state.clone(),
            follow_ups: ports.follow_ups.clone(),
            rule: base.rule.clone(),
            reaper: base.reaper.clone(),
            answers: base.answers.clone(),
            advance,
            maintain: maintain.clone(),
            refresh: refresh.clone(),
        });
        Flows {
            core,
            receive,
            follow_up,
            maintain,
            sweep,
            expiry: base.expiry,
            deeds: base.deeds,
            answers: base.answers,
            sources: base.sources,
            reaper: base.reaper,
            refresh,
            prepared,
        }
    }
}

impl Base {
    fn new(core: &Core, ports: &Ports) -> Base {
        let deeds = Arc::new(Deeds {
            core: core.clone(),
            rds: ports.rds.clone(),
            ledger: ports.ledger.clone(),
        });
        let credentials = Arc::new(Credentials {
            core: core.clone(),
            rds: ports.rds.clone(),
            secrets: ports.secrets.clone(),
            keys: ports.keys.clone(),
            deeds: deeds.clone(),
        });
        let applier = Arc::new(Applier {
            core: core.clone(),
            rds: ports.rds.clone(),
            state: ports.state.clone(),
            secrets: ports.secrets.clone(),
            keys: ports.keys.clone(),
            events: ports.events.clone(),
            schedules: ports.schedules.clone(),
            deeds: deeds.clone(),
            credentials,
        });
        let rule = Arc::new(Rule {
            follow_ups: ports.follow_ups.clone(),
        });
        let reaper = Arc::new(Reaper {
            core: core.clone(),
            state: ports.state.clone(),
            deeds: deeds.clone(),
            applier: applier.clone(),
            events: ports.events.clone(),
            rule: rule.clone(),
        });
        let answers = Arc::new(Answers {
            core: core.clone(),
            state: ports.state.clone(),
            responder: ports.responder.clone(),
            events: ports.events.clone(),
            rule: rule.clone(),
            reaper: reaper.clone(),
        });
        let expiry = Arc::new(Expiries {
            core: core.clone(),
            state: ports.state.clone(),
            deeds: deeds.clone(),
            applier: applier.clone(),
            reaper: reaper.clone(),
        });
        Base {
            leases: Arc::new(Leases {
                core: core.clone(),
                state: ports.state.clone(),
            }),
            sources: Arc::new(Sources {
                core: core.clone(),
                parameters: ports.parameters.clone(),
            }),
            deeds,
            rule,
            applier,
            reaper,
            answers,
            expiry,
        }
    }
}

/// The request flows: Create (`Place`), Update (`Revise`), Delete (`Teardown`), dispatched by
/// `Advance` after the stack check.
fn advance(core: &Core, ports: &Ports, base: &Base) -> Arc<Advance> {
    let place = Arc::new(Place {
        core: core.clone(),
        rds: ports.rds.clone(),
        state: ports.state.clone(),
        caches: Default::default(),
        answers: base.answers.clone(),
        applier: base.applier.clone(),
        deeds: base.deeds.clone(),
        expiry: base.expiry.clone(),
        leases: base.leases.clone(),
        sources: base.sources.clone(),
    });
    let revise = Arc::new(Revise {
        core: core.clone(),
        state: ports.state.clone(),
        deeds: base.deeds.clone(),
        applier: base.applier.clone(),
        answers: base.answers.clone(),
        place: place.clone(),
    });
    let teardown = Arc::new(Teardown {
        core: core.clone(),
        state: ports.state.clone(),
        deeds: base.deeds.clone(),
        applier: base.applier.clone(),
        reaper: base.reaper.clone(),
        answers: base.answers.clone(),
    });
    Arc::new(Advance {
        core: core.clone(),
        answers: base.answers.clone(),
        vet: Arc::new(Vet {
            core: core.clone(),
            stacks: ports.stacks.clone(),
        }),
        place,
        revise,
        teardown,
    })
}
