//! Model-based authorization test (issue 11; ADR 0002, "Sequence
//! invariants").
//!
//! A seeded generator plays long random sequences of steps by random
//! principals (an administrator, agents holding every role somewhere, an
//! agent who is a member of nothing, two contractors acting through the
//! edge) against the real use cases over the in-memory fakes, and against a
//! reference model written from DESIGN §2 and ADR 0002 alone
//! ([`reference`]). After every step it checks that:
//! - the call was allowed or refused as the model says (and how: not found,
//!   forbidden, the conflict codes the ADR names);
//! - the real state (members, flags, every folder and document: live,
//!   trashed with what, purged; invitations) is the model's, exactly;
//! - the invariants hold on the real state: no contractor manager, an agent
//!   manager in every space, nothing written in an archived space (a
//!   snapshot of its rows, revisions included), no password or working
//!   token for a contractor here, every edge operation recorded once;
//! - what a few principals look at is visible (with the model's role), or
//!   answers exactly as an id that does not exist; every 100 steps many
//!   more, and after the last one every principal looks at everything.
//!
//! After the last step, a password hash, a session and an API token planted
//! for each contractor must open nothing on this node (and the same for an
//! agent must, so the check plants what the node would accept).
//!
//! Modules: [`reference`] (the model: state, rights table, what each step
//! may do and does), [`generate`] (the seeded generator, which reads only
//! the model), [`ops`] (the steps and their log lines), [`real`] (playing a
//! step on the use cases), [`checks`] (state comparison, invariants,
//! probes), [`sync`] (the model takes the real state after they parted).
//!
//! On failure it prints the seed, the step and the last steps. Replay one
//! seed with `PASSERELLE_MODEL_SEED=<seed>`; run more with
//! `PASSERELLE_MODEL_SEEDS=<count>` (seeds 0..count) and
//! `PASSERELLE_MODEL_STEPS=<steps per seed>` (the in-memory repository copies
//! its state on every write, so many seeds scale better than many steps).

mod checks;
mod generate;
mod ops;
mod real;
mod reference;
mod sync;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use futures::executor::block_on;

use crate::fakes::{FastPasswords, MemBlobStore, MemRepository};
use crate::model::Visibility;
use crate::service::{CoreSettings, InternalApp, NewSpace};

use checks::{Problem, Target};
use ops::{CONTRACTORS, OUTSIDER, Op, Rng};
use reference::{Class, MPrincipal, MRole, MSpace, Model, P, Share, Want};

const DEFAULT_SEEDS: u64 = 20;
const DEFAULT_STEPS: usize = 300;
/// Principals and things looked at after each step (besides the sweeps).
const PROBES_PER_STEP: usize = 4;
/// Every so many steps, a sweep: this many random (principal, thing)
/// pairs, or all of them when there are fewer; the last step always sweeps
/// everything. Looking is most of the run's time (a refusal is audited, and
/// the in-memory repository copies its state on every write).
const SWEEP_EVERY: usize = 100;
const SWEEP: usize = 600;
const RECENT: usize = 20;

/// The real node and the model, side by side.
pub(super) struct World {
    app: InternalApp,
    repo: Arc<MemRepository>,
    blobs: Arc<MemBlobStore>,
    model: Model,
    /// API tokens issued, and for whom (checked after every step).
    tokens: Vec<(P, String)>,
    /// Outbox sequence of the edge operations made up so far.
    seq: i64,
    /// New versions played so far: each carries new content, since content
    /// identical to the current version's adds no version.
    versions: u64,
}

impl World {
    fn repo(&self) -> &MemRepository {
        &self.repo
    }

    /// An internal node configured with one edge, `edge-1`; the principals
    /// (contractors only named: they exist once invited) and three spaces,
    /// the last one public, each managed by its creator.
    async fn new() -> Self {
        let repo = Arc::new(MemRepository::new());
        let blobs = Arc::new(MemBlobStore::new());
        let app = InternalApp::new(
            repo.clone(),
            blobs.clone(),
            Arc::new(crate::ports::SystemClock),
            Arc::new(FastPasswords),
            CoreSettings {
                edges: vec![real::EDGE.parse().expect("node id")],
                ..CoreSettings::default()
            },
        );
        let mut model = Model::default();
        let mut actors = Vec::new();
        for (login, admin) in [
            ("admin", true),
            ("a1", false),
            ("a2", false),
            ("a3", false),
            ("a4", false),
            ("a5", false),
            ("outsider", false),
        ] {
            let actor = super::agent(&app, login, admin).await;
            model.principals.push(MPrincipal {
                login: login.to_owned(),
                contractor: false,
                admin,
                id: actor.id(),
            });
            actors.push(actor);
        }
        for login in ["c1@btp-rhone.example", "c2@geometres.example"] {
            model.principals.push(MPrincipal {
                login: login.to_owned(),
                contractor: true,
                admin: false,
                id: None,
            });
        }
        for (slug, creator, visibility) in [
            ("finances", 1, Visibility::Private),
            ("urbanisme", 2, Visibility::Private),
            ("culture", 3, Visibility::Public),
        ] {
            let new = NewSpace {
                slug: slug.into(),
                title: slug.into(),
                description: String::new(),
                domain: "Finances".into(),
                visibility,
                manager: None,
            };
            let view = app
                .create_space(&actors[creator], new)
                .await
                .expect("space");
            model.spaces.push(MSpace {
                id: view.space.id,
                public: visibility == Visibility::Public,
                archived: false,
                share: Share::Internal,
                members: BTreeMap::from([(creator, MRole::Manager)]),
            });
        }
        Self {
            app,
            repo,
            blobs,
            model,
            tokens: Vec::new(),
            seq: 0,
            versions: 0,
        }
    }

    /// Plays one step on both sides and checks everything; returns how the
    /// call ended (for the log) and what went wrong.
    async fn step(&mut self, op: &Op, probes: &mut Rng, looks: usize) -> (String, Vec<Problem>) {
        let mut problems = Vec::new();
        // The real archived spaces, as they are before the step.
        let mut frozen = Vec::new();
        for (s, space) in self.model.spaces.iter().enumerate() {
            if self.archived(space.id).await {
                frozen.push((s, self.snapshot(space.id).await));
            }
        }
        let want = self.model.expect(op);
        let got = self.play(op).await;
        let shown = match &got.error {
            Some(e) => format!("{:?} {e}", got.class),
            None => format!("{:?}", got.class),
        };
        if want.iter().any(|w| w.matches(&got.class)) {
            if matches!(got.class, Class::Ok | Class::Applied | Class::Conflicted) {
                self.model.apply(op, &got);
            }
        } else {
            problems.push(Problem::soft(
                format!("outcome of {}: {}", op_name(op), show_wants(&want)),
                format!(
                    "got {shown}, the model allows {}{}",
                    show_wants(&want),
                    ops::situation(op, &self.model)
                ),
            ));
        }
        if let Some((kind, message)) = &got.broken {
            problems.push(Problem::soft(*kind, message.clone()));
        }
        problems.extend(self.compare_state().await);
        problems.extend(self.check_invariants().await);
        for (s, before) in frozen {
            if !op.is_way_out(s) && self.snapshot(self.model.spaces[s].id).await != before {
                problems.push(Problem::soft(
                    format!("invariant 4: {} changed an archived space", op_name(op)),
                    format!("s{s} changed while archived"),
                ));
            }
        }
        problems.extend(self.look(probes, looks).await);
        (shown, problems)
    }

    /// `budget` random (principal, thing) pairs, or every pair when there
    /// are no more than that.
    async fn look(&self, rng: &mut Rng, budget: usize) -> Vec<Problem> {
        let m = &self.model;
        let mut targets: Vec<Target> = (0..m.spaces.len()).map(Target::Space).collect();
        targets.extend(m.docs.iter().map(|d| Target::Doc(d.id)));
        targets.extend(m.folders.iter().map(|f| Target::Folder(f.id)));
        let people = m.principals.len();
        let pairs: Vec<(P, Target)> = if people * targets.len() <= budget {
            (0..people)
                .flat_map(|p| targets.iter().map(move |t| (p, *t)))
                .collect()
        } else {
            (0..budget)
                .filter_map(|_| Some((rng.below(people), rng.pick(&targets)?)))
                .collect()
        };
        let mut out = Vec::new();
        for (p, t) in pairs {
            out.extend(self.probe(p, t).await);
        }
        out
    }
}

fn op_name(op: &Op) -> String {
    let full = format!("{op:?}");
    let name = full.split([' ', '{']).next().unwrap_or_default().to_owned();
    match op {
        Op::Edge { kind, .. } => {
            let k = format!("{kind:?}");
            format!("Edge/{}", k.split([' ', '{']).next().unwrap_or_default())
        }
        _ => name,
    }
}

fn show_wants(w: &[Want]) -> String {
    let parts: Vec<String> = w
        .iter()
        .map(|w| match w {
            Want::Is(c) => format!("{c:?}"),
            Want::Code(k) => format!("refused {k}"),
            Want::Refused => "refused".to_owned(),
        })
        .collect();
    parts.join(" | ")
}

/// The steps that set the stage (checked like any step): the second space
/// is shared and a contractor invited into it, and each space's creator
/// gives some agents a role.
fn opening(rng: &mut Rng, m: &Model) -> Vec<Op> {
    let manager = *m.spaces[1].members.keys().next().expect("a manager");
    let mut out = vec![
        Op::Share {
            by: manager,
            space: 1,
        },
        Op::Invite {
            by: manager,
            space: 1,
            who: CONTRACTORS[0],
            role: MRole::ALL[1 + rng.below(3)],
        },
    ];
    for (s, space) in m.spaces.iter().enumerate() {
        let creator = *space.members.keys().next().expect("a manager");
        for who in 1..OUTSIDER {
            if who != creator && rng.chance(60) {
                out.push(Op::SetMember {
                    by: creator,
                    space: s,
                    who,
                    role: MRole::ALL[rng.below(4)],
                });
            }
        }
    }
    out
}

/// Per kind of step: how many succeeded, how many were refused (so that a
/// run shows it explored more than refusals).
type Stats = BTreeMap<String, (u32, u32)>;

/// A failure as reported.
struct Failure {
    seed: u64,
    step: usize,
    problem: Problem,
    recent: Vec<String>,
}

/// Runs one seed; each kind of failure is reported once per seed, and when
/// the real state parts from the model's, the model takes the real one.
async fn run(seed: u64, steps: usize, stats: &mut Stats) -> Vec<Failure> {
    let mut w = World::new().await;
    let mut rng = Rng::new(seed);
    let mut probes = Rng::new(seed ^ 0x5EED_0F9E_0BE5);
    let mut recent: VecDeque<String> = VecDeque::new();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut queue: VecDeque<Op> = opening(&mut rng, &w.model).into();
    let total = queue.len() + steps;
    for step in 0..total {
        let op = queue
            .pop_front()
            .unwrap_or_else(|| generate::generate(&mut rng, &w.model));
        let line = ops::describe(&op, &w.model);
        let looks = if step + 1 == total {
            usize::MAX
        } else if step % SWEEP_EVERY == SWEEP_EVERY - 1 {
            SWEEP
        } else {
            PROBES_PER_STEP
        };
        let (shown, problems) = w.step(&op, &mut probes, looks).await;
        let tally = stats.entry(op_name(&op)).or_default();
        if shown.starts_with("Ok")
            || shown.starts_with("Applied")
            || shown.starts_with("Conflicted")
        {
            tally.0 += 1;
        } else {
            tally.1 += 1;
        }
        recent.push_back(format!("#{step} {line} -> {shown}"));
        if recent.len() > RECENT {
            recent.pop_front();
        }
        let hard = problems.iter().any(|p| p.hard);
        for problem in problems {
            if seen.insert(problem.kind.clone()) {
                failures.push(Failure {
                    seed,
                    step,
                    problem,
                    recent: recent.iter().cloned().collect(),
                });
            }
        }
        if hard {
            // Go on from the real state: the next kind of failure is worth
            // more than this one again.
            w.resync().await;
        }
    }
    for problem in w.planted_credentials().await {
        if !seen.insert(problem.kind.clone()) {
            continue;
        }
        failures.push(Failure {
            seed,
            step: total,
            problem,
            recent: recent.iter().cloned().collect(),
        });
    }
    failures
}

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}")),
    )
}

#[test]
fn random_sequences_keep_the_authorization_rules_and_invariants() {
    let steps = env_number("PASSERELLE_MODEL_STEPS").map_or(DEFAULT_STEPS, |n| n as usize);
    let seeds: Vec<u64> = match env_number("PASSERELLE_MODEL_SEED") {
        Some(s) => vec![s],
        None => (0..env_number("PASSERELLE_MODEL_SEEDS").unwrap_or(DEFAULT_SEEDS)).collect(),
    };
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut stats = Stats::new();
    for seed in &seeds {
        failures.extend(block_on(run(*seed, steps, &mut stats)));
    }
    eprintln!(
        "model: {} seeds x {steps} steps in {:.1?}; succeeded / refused:",
        seeds.len(),
        started.elapsed()
    );
    for (kind, (ok, refused)) in &stats {
        eprintln!("  {kind:<24} {ok:>6} {refused:>6}");
    }
    if failures.is_empty() {
        return;
    }
    // The first occurrence of each kind in full, the others in one line.
    let mut shown = BTreeSet::new();
    for f in &failures {
        if shown.insert(f.problem.kind.clone()) {
            eprintln!(
                "\n=== {} (seed {}, step {}; replay: PASSERELLE_MODEL_SEED={} PASSERELLE_MODEL_STEPS={})\n{}\nlast steps:",
                f.problem.kind,
                f.seed,
                f.step,
                f.seed,
                f.step + 1,
                f.problem.message
            );
            for line in &f.recent {
                eprintln!("  {line}");
            }
        }
    }
    eprintln!("\nevery failure (kind / seed / step):");
    for f in &failures {
        eprintln!("  {} / seed {} / step {}", f.problem.kind, f.seed, f.step);
    }
    panic!(
        "{} failures of {} kinds: see above",
        failures.len(),
        shown.len()
    );
}
