//! Commands decided against the record as the store holds it keep every stored history valid:
//! the invariant of `roadback_domain::decide`, through the store.

use roadback_domain::projection::Envelope;
use roadback_domain::rules::verify;
use roadback_domain::testing::{Player, seeded_steps, today};
use roadback_domain::{Case, decide};
use roadback_store::records::{beneficiary_stream, envelope, new_event};
use roadback_store::testing::TestDatabase;
use roadback_store::{EventContext, EventStore, ExpectedVersion};
use uuid::Uuid;

/// A beneficiary's record as stored: the case and its version.
async fn stored(store: &EventStore, beneficiary: Uuid) -> (Case, u64) {
    let stream = beneficiary_stream(beneficiary).unwrap();
    let events = store.read_stream(&stream, 1, 100_000).await.unwrap();
    let entries: Vec<Envelope> = events
        .iter()
        .map(|e| envelope(e).unwrap().expect("a beneficiary's event"))
        .collect();
    let version = entries.last().map_or(0, |e| e.version);
    let case = Case::from_events(entries.iter().map(|e| (e.id, e.occurred_on, &e.event)));
    (case, version)
}

/// Random commands of every kind (new, backdated, corrections and voids of earlier facts),
/// each decided against the record read back from the store and appended at the version it
/// was decided against: after each, the stored history obeys the rules.
pub async fn commands_decided_against_the_stored_record_keep_it_valid(db: &TestDatabase) {
    let store = db.open().await;
    let mut player = Player::new(3);
    let mut accepted = 0;
    for step in seeded_steps(23, 700, 3, 25) {
        let beneficiary = player.beneficiary(&step);
        let (case, _) = stored(&store, beneficiary).await;
        for request in player.requests(&step, &case) {
            let (case, version) = stored(&store, beneficiary).await;
            let Ok(events) = decide(&case, &request, today(), player.directory()) else {
                break;
            };
            let new: Vec<_> = events
                .iter()
                .map(|event| {
                    player.accepted(event);
                    let context = EventContext {
                        actor: Uuid::from_u128(0xC0),
                        organisation: Uuid::from_u128(0x0A),
                        correlation_id: Uuid::from_u128(1),
                    };
                    new_event(player.fresh(&step), event, request.occurred_on, context).unwrap()
                })
                .collect();
            let expected = match version {
                0 => ExpectedVersion::NoStream,
                v => ExpectedVersion::Exact(v),
            };
            store
                .append(&beneficiary_stream(beneficiary).unwrap(), expected, new)
                .await
                .unwrap();
            accepted += 1;
            let (after, _) = stored(&store, beneficiary).await;
            assert_eq!(verify(&after, today()), Ok(()), "after {request:?}");
        }
    }
    assert!(accepted > 150, "only {accepted} commands accepted");
}
