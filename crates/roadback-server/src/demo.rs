//! Loading the demo program: its organisations and demo users in the directory, then every
//! beneficiary's history, each command decided by the domain's rules and appended (a whole
//! history per append, many in flight, generated on another thread meanwhile), then the read
//! models rebuilt.

use anyhow::Context;
use roadback_demo::{Config, History, Program, Random};
use roadback_domain::access::Role;
use roadback_domain::personal::PersonalData;
use roadback_domain::{Case, Event, decide};
use roadback_store::records::{beneficiary_stream, new_event};
use roadback_store::vault::Vault;
use roadback_store::{EventContext, EventStore, ExpectedVersion, projector};
use uuid::Uuid;

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "roadback-demo";
/// Appends in flight while loading: the store's group commit takes them in one transaction.
const IN_FLIGHT: usize = 64;
/// Histories generated and decided before their vault details are written (in one
/// transaction) and their appends start.
const CHUNK: usize = 500;

/// What a load did.
#[derive(Debug)]
pub struct Loaded {
    /// Beneficiaries loaded.
    pub beneficiaries: u64,
    /// Events appended.
    pub events: u64,
    /// Whether the demo was there already (nothing loaded).
    pub already: bool,
}

/// The demo users of one organisation: (role, address, name, id if fixed by the program).
fn users(org: &roadback_demo::Organisation) -> Vec<(Role, String, String, Option<Uuid>)> {
    let mut users = vec![
        (
            Role::Administrator,
            format!("admin@{}.demo", org.slug),
            format!("{} administrator", org.name),
            None,
        ),
        (
            Role::Supervisor,
            format!("supervisor@{}.demo", org.slug),
            format!("{} supervisor", org.name),
            None,
        ),
        (
            Role::Evaluator,
            format!("evaluator@{}.demo", org.slug),
            format!("{} evaluator", org.name),
            None,
        ),
        (
            Role::Integrator,
            format!("integrator@{}.demo", org.slug),
            format!("{} integrator", org.name),
            None,
        ),
    ];
    for (k, id) in org.caseworkers.iter().enumerate() {
        users.push((
            Role::Caseworker,
            format!("caseworker{}@{}.demo", k + 1, org.slug),
            format!("{} caseworker {}", org.name, k + 1),
            Some(*id),
        ));
    }
    users
}

/// Invented personal details for a demo beneficiary (kept in the vault like real ones).
fn personal(beneficiary: Uuid) -> PersonalData {
    const GIVEN: [&str; 12] = [
        "Ana", "Besa", "Drita", "Elena", "Ivana", "Jelena", "Marija", "Mirela", "Nora", "Petra",
        "Teuta", "Vesna",
    ];
    const FAMILY: [&str; 12] = [
        "Hoxha",
        "Petrova",
        "Krasniqi",
        "Popescu",
        "Jovanovic",
        "Stojanova",
        "Berisha",
        "Ionescu",
        "Dimitrova",
        "Kovac",
        "Gashi",
        "Nikolic",
    ];
    let bits = beneficiary.as_u128();
    let mut r = Random::new((bits >> 64) as u64 ^ bits as u64);
    PersonalData {
        given_name: Some(GIVEN[r.below(12) as usize].to_string()),
        family_name: Some(FAMILY[r.below(12) as usize].to_string()),
        phone: Some(format!(
            "+38 0{} 555 {:04}",
            r.between(60, 79),
            r.below(10_000)
        )),
        ..PersonalData::default()
    }
}

/// Loads the demo into the store; `progress(done, total)` after each beneficiary.
pub async fn load(
    store: &EventStore,
    vault: &Vault,
    config: Config,
    progress: impl Fn(u64, u64) + Send + Sync + 'static,
) -> anyhow::Result<Loaded> {
    let organisations = roadback_demo::organisations(config.seed);
    let existing = store.organisations().await?;
    if existing.iter().any(|o| o.id == organisations[0].id) {
        return Ok(Loaded {
            beneficiaries: 0,
            events: 0,
            already: true,
        });
    }
    let password = roadback_graphql::auth::hash_password(DEMO_PASSWORD)
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    for org in &organisations {
        store
            .create_organisation_with_id(org.id, &org.name, org.country)
            .await
            .with_context(|| format!("cannot create the demo organisation {}", org.name))?;
        for (role, email, name, id) in users(org) {
            // An integrator acts through API tokens (`roadback token issue`), not a password.
            let password = (role != Role::Integrator).then_some(password.as_str());
            store
                .create_user_with_id(
                    id.unwrap_or_else(Uuid::now_v7),
                    org.id,
                    &email,
                    &name,
                    role,
                    password,
                )
                .await?;
        }
    }

    let total = u64::from(config.scale.max(1))
        * (roadback_demo::figures::PRIMARY + roadback_demo::figures::SECONDARY) as u64;
    // The program is generated and decided on a thread of its own while the store writes the
    // chunks before it: on two cores, neither waits for the other.
    let (chunks, mut ready) = tokio::sync::mpsc::channel(2);
    let ids: Vec<Uuid> = organisations.iter().map(|o| o.id).collect();
    let producer = tokio::task::spawn_blocking(move || produce(config, &ids, &chunks));
    let mut appends = tokio::task::JoinSet::new();
    let mut events = 0u64;
    let mut done = 0u64;
    while let Some(chunk) = ready.recv().await {
        let Chunk {
            histories,
            personal,
        } = chunk;
        vault.put_many(&personal).await?;
        for (beneficiary, batch) in histories {
            if appends.len() >= IN_FLIGHT {
                done += appends.join_next().await.expect("a task is running")??;
                progress(done, total);
            }
            events += batch.len() as u64;
            let store = store.clone();
            appends.spawn(async move {
                let stream = beneficiary_stream(beneficiary)?;
                store
                    .append(&stream, ExpectedVersion::NoStream, batch)
                    .await?;
                anyhow::Ok(1)
            });
        }
    }
    // The producer stops at its first error (a broken rule), which ends the chunks early.
    producer.await??;
    while let Some(appended) = appends.join_next().await {
        done += appended??;
    }
    progress(done, total);
    projector::rebuild(store, |_, _| {}).await?;
    Ok(Loaded {
        beneficiaries: done,
        events,
        already: false,
    })
}

/// Decided histories, with the vault details their personal-data events refer to.
#[derive(Default)]
struct Chunk {
    histories: Vec<(Uuid, Vec<roadback_store::NewEvent>)>,
    personal: Vec<(Uuid, PersonalData)>,
}

/// Generates and decides the program, sending it in chunks of [`CHUNK`] histories; returns
/// early, without error, when the receiver is gone.
fn produce(
    config: Config,
    organisations: &[Uuid],
    chunks: &tokio::sync::mpsc::Sender<Chunk>,
) -> anyhow::Result<()> {
    let mut program = Program::new(&roadback_demo::organisations(config.seed));
    let mut chunk = Chunk::default();
    for history in roadback_demo::histories(config) {
        let (batch, personal_data) =
            decided(&history, &program, organisations[history.organisation])?;
        if history.primary.is_none() {
            program.add_primary(history.beneficiary);
        }
        if personal_data {
            chunk
                .personal
                .push((history.beneficiary, personal(history.beneficiary)));
        }
        chunk.histories.push((history.beneficiary, batch));
        if chunk.histories.len() >= CHUNK
            && chunks.blocking_send(std::mem::take(&mut chunk)).is_err()
        {
            return Ok(());
        }
    }
    let _ = chunks.blocking_send(chunk);
    Ok(())
}

/// Decides a history's commands; returns the events to append and whether personal data was
/// recorded (so the vault gets details to match).
fn decided(
    history: &History,
    directory: &Program,
    organisation: Uuid,
) -> anyhow::Result<(Vec<roadback_store::NewEvent>, bool)> {
    let mut case = Case::default();
    let mut batch = Vec::with_capacity(history.commands.len());
    let mut personal_data = false;
    for command in &history.commands {
        let events =
            decide(&case, &command.request, roadback_demo::end(), directory).map_err(|r| {
                anyhow::anyhow!(
                    "the demo program broke a rule ({}): {}",
                    r.code.as_str(),
                    r.reason
                )
            })?;
        for event in &events {
            let id = roadback_demo::event_id(history.beneficiary, batch.len());
            case.apply(id, command.request.occurred_on, event);
            personal_data |= matches!(event, Event::PersonalDataRecorded(_));
            let context = EventContext {
                actor: command.actor,
                organisation,
                correlation_id: id,
            };
            batch.push(new_event(id, event, command.request.occurred_on, context)?);
        }
    }
    Ok((batch, personal_data))
}

/// The demo users' sign-in, to print after a load.
pub fn sign_ins(seed: u64) -> String {
    let mut out = format!("Demo users (password \"{DEMO_PASSWORD}\"), per organisation:\n");
    for org in roadback_demo::organisations(seed) {
        let emails: Vec<String> = users(&org)
            .into_iter()
            .filter(|(role, ..)| *role != Role::Integrator)
            .map(|(_, email, _, _)| email)
            .collect();
        out.push_str(&format!(
            "  {} ({}): {}\n",
            org.name,
            org.country,
            emails.join(", ")
        ));
    }
    out.push_str(
        "Integrator accounts (integrator@<organisation>.demo) act through API tokens only:\n  roadback token issue --email integrator@<organisation>.demo --name sync --scopes read\n",
    );
    out
}
