//! Every rejection names a field the caller sent: the `field` of a rule's rejection is an input
//! field of the mutation that made the command, and every field the API itself names is an
//! input field or argument a caller sends.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use chrono::{Datelike, Duration, NaiveDate};
use roadback_domain::command::{Command, Delivery, Request};
use roadback_domain::testing::{Player, seeded_steps, today};
use roadback_domain::vocabulary::Birth;
use roadback_domain::{Case, Status, decide};

/// The input fields of each mutation (its `input` argument's fields, nested inputs as
/// `outer.inner`), from `schema.graphql`.
fn mutation_inputs() -> BTreeMap<String, BTreeSet<String>> {
    let sdl = roadback_graphql::sdl();
    let document = parse_schema(&sdl).expect("the schema parses");
    let mut inputs: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut mutations: Vec<(String, String)> = Vec::new();
    let named = |ty: &Type| match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => match &inner.base {
            BaseType::Named(name) => name.to_string(),
            BaseType::List(_) => String::new(),
        },
    };
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let ty = &ty.node;
        match &ty.kind {
            TypeKind::InputObject(input) => {
                inputs.insert(
                    ty.name.node.to_string(),
                    input
                        .fields
                        .iter()
                        .map(|f| (f.node.name.node.to_string(), named(&f.node.ty.node)))
                        .collect(),
                );
            }
            TypeKind::Object(object) if ty.name.node == "Mutation" => {
                for field in &object.fields {
                    for argument in &field.node.arguments {
                        if argument.node.name.node == "input" {
                            mutations.push((
                                field.node.name.node.to_string(),
                                named(&argument.node.ty.node),
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    fn paths(
        inputs: &BTreeMap<String, Vec<(String, String)>>,
        ty: &str,
        prefix: &str,
        out: &mut BTreeSet<String>,
    ) {
        for (name, inner) in inputs.get(ty).into_iter().flatten() {
            let path = format!("{prefix}{name}");
            out.insert(path.clone());
            if inputs.contains_key(inner) && inner != ty {
                paths(inputs, inner, &format!("{path}."), out);
            }
        }
    }
    mutations
        .into_iter()
        .map(|(mutation, input)| {
            let mut fields = BTreeSet::new();
            paths(&inputs, &input, "", &mut fields);
            (mutation, fields)
        })
        .collect()
}

/// The mutation a command is given through.
fn mutation(command: &Command) -> String {
    let name = command.name();
    name[..1].to_lowercase() + &name[1..]
}

/// Wrong versions of a request, each breaking a rule that names a field.
fn perturbed(request: &Request) -> Vec<Request> {
    let far = NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
    let mut out = vec![
        Request {
            occurred_on: far,
            ..request.clone()
        },
        Request {
            occurred_on: today() + Duration::days(3),
            ..request.clone()
        },
        Request {
            corrects: Some(uuid::Uuid::from_u128(0xDEAD)),
            ..request.clone()
        },
    ];
    let on = request.occurred_on;
    let mut with = |command: Command| {
        out.push(Request {
            command,
            ..request.clone()
        })
    };
    match &request.command {
        Command::RegisterBeneficiary(r) => {
            for change in 0..6 {
                let mut r = r.clone();
                let d = &mut r.details;
                match change {
                    0 => d.case_code = "Ana Petrović +381 64".into(),
                    1 => d.birth = Some(Birth::in_month(1990, 13)),
                    2 => d.birth = Some(Birth::in_month(1700, 1)),
                    3 => d.identified_on = on + Duration::days(400),
                    4 => d.birth = Some(Birth::in_month(on.year() + 1, 1)),
                    _ => r.caseworker = uuid::Uuid::from_u128(0xBAD),
                }
                with(Command::RegisterBeneficiary(r));
            }
        }
        Command::RecordServiceDelivery(d) => {
            for change in 0..6 {
                let mut d: Delivery = *d;
                match change {
                    0 => d.to = Some(d.from - Duration::days(1)),
                    1 => d.to = Some(today() + Duration::days(30)),
                    2 => d.from += Duration::days(1),
                    3 => d.pre_program = !d.pre_program,
                    4 => d.service_id = Some(uuid::Uuid::from_u128(0xBAD)),
                    _ => d.provider = Some(uuid::Uuid::from_u128(0xBAD)),
                }
                with(Command::RecordServiceDelivery(d));
            }
        }
        Command::SetPlanGoal {
            goal_id, domain, ..
        } => with(Command::SetPlanGoal {
            goal_id: *goal_id,
            domain: *domain,
            target_on: Some(on + Duration::days(365 * 20)),
        }),
        Command::ScheduleReview { .. } => with(Command::ScheduleReview {
            due_on: on - Duration::days(1),
        }),
        Command::RecordPlanReview { .. } => with(Command::RecordPlanReview {
            next_review_on: Some(on + Duration::days(365 * 20)),
        }),
        Command::ChangeStatus { .. } => with(Command::ChangeStatus {
            to: Status::Identified,
        }),
        Command::TransferCase { .. } => with(Command::TransferCase {
            to_caseworker: uuid::Uuid::from_u128(0xBAD),
        }),
        Command::ReferToOrganisation { referral_id, .. } => with(Command::ReferToOrganisation {
            referral_id: *referral_id,
            to_organisation: uuid::Uuid::from_u128(0xBAD),
        }),
        Command::RecordAssessment {
            assessment_id,
            scores,
            ..
        } => with(Command::RecordAssessment {
            assessment_id: *assessment_id,
            framework_version: 99,
            scores: scores.clone(),
        }),
        Command::CorrectRegistration {
            details,
            relationship,
        } => {
            let mut details = details.clone();
            details.case_code = String::new();
            with(Command::CorrectRegistration {
                details,
                relationship: *relationship,
            });
        }
        _ => {}
    }
    out
}

#[test]
fn every_rejection_names_an_input_field_of_the_mutation_that_made_the_command() {
    let inputs = mutation_inputs();
    let mut player = Player::new(4);
    let mut cases: BTreeMap<uuid::Uuid, Case> = BTreeMap::new();
    let mut seen: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    let mut problems = BTreeSet::new();
    for step in seeded_steps(5, 6_000, 4, 25) {
        let beneficiary = player.beneficiary(&step);
        let case = cases.entry(beneficiary).or_default();
        for request in player.requests(&step, case) {
            // The request as the player made it (often refused: random commands), then wrong
            // versions of it.
            for wrong in std::iter::once(request.clone()).chain(perturbed(&request)) {
                let Err(rejection) = decide(case, &wrong, today(), player.directory()) else {
                    continue;
                };
                let mutation = mutation(&wrong.command);
                let Some(field) = rejection.field else {
                    continue;
                };
                let fields = inputs
                    .get(&mutation)
                    .unwrap_or_else(|| panic!("no mutation {mutation} in the schema"));
                if !fields.contains(field) {
                    problems.insert(format!(
                        "{mutation} rejected with field {field:?} ({}), not one of {fields:?}",
                        rejection.code.as_str()
                    ));
                }
                seen.entry(mutation).or_default().insert(field);
            }
            let Ok(events) = decide(case, &request, today(), player.directory()) else {
                break;
            };
            for event in events {
                player.accepted(&event);
                let id = player.fresh(&step);
                case.apply(id, request.occurred_on, &event);
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    let distinct: BTreeSet<&str> = seen.values().flatten().copied().collect();
    assert!(
        seen.len() >= 20 && distinct.len() >= 22,
        "too few rejections exercised: {seen:?}"
    );
}

/// The fields the API itself names (`ApiError::invalid("field", ...)` in the resolvers).
fn fields_named_by_the_api() -> BTreeSet<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut files = vec![std::path::PathBuf::from(dir)];
    let mut named = BTreeSet::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, _) in text.match_indices("ApiError::invalid(") {
            let rest = text[i + "ApiError::invalid(".len()..].trim_start();
            if let Some(literal) = rest.strip_prefix('"') {
                named.insert(literal[..literal.find('"').unwrap()].to_string());
            }
        }
    }
    named
}

/// Every name a caller sends: input fields and the arguments of every field.
fn names_a_caller_sends() -> BTreeSet<String> {
    let sdl = roadback_graphql::sdl();
    let document = parse_schema(&sdl).expect("the schema parses");
    let mut names = BTreeSet::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        match &ty.node.kind {
            TypeKind::InputObject(input) => {
                names.extend(input.fields.iter().map(|f| f.node.name.node.to_string()));
            }
            TypeKind::Object(object) => {
                for field in &object.fields {
                    names.extend(
                        field
                            .node
                            .arguments
                            .iter()
                            .map(|a| a.node.name.node.to_string()),
                    );
                }
            }
            _ => {}
        }
    }
    names
}

#[test]
fn every_field_the_api_names_is_an_input_field() {
    let all = names_a_caller_sends();
    let named = fields_named_by_the_api();
    assert!(named.len() >= 8, "{named:?}");
    let unknown: Vec<&String> = named.iter().filter(|f| !all.contains(*f)).collect();
    assert!(unknown.is_empty(), "fields no caller sends: {unknown:?}");
}
