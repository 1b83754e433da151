//! Upcasters: each turns one stored schema version of one event type into the next version.
//! Old events are never rewritten; they are upcast every time they are read.

use serde_json::{Value, json};

use crate::events::DecodeError;

/// Turns `payload`, stored as `version` of `event_type`, into `version + 1`.
pub fn upcast(event_type: &str, version: u32, payload: Value) -> Result<Value, DecodeError> {
    match (event_type, version) {
        ("BeneficiaryRegistered", 1) => Ok(beneficiary_registered_v1_to_v2(payload)),
        _ => Err(DecodeError::UnknownVersion {
            event_type: event_type.to_string(),
            version,
        }),
    }
}

/// Version 1 recorded a birth year only and one form of exploitation; version 2 records year and
/// month of birth and a list of forms. A birth year alone becomes December of that year: the
/// youngest the person can be, so age (and with it the guardian rule) is never overstated.
fn beneficiary_registered_v1_to_v2(mut payload: Value) -> Value {
    if let Some(object) = payload.as_object_mut() {
        let birth = match object.remove("birth_year") {
            Some(Value::Number(year)) => json!({ "year": year, "month": 12 }),
            _ => Value::Null,
        };
        object.insert("birth".into(), birth);
        let forms = match object.remove("form_of_exploitation") {
            Some(Value::Null) | None => json!([]),
            Some(form) => json!([form]),
        };
        object.insert("forms_of_exploitation".into(), forms);
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{BeneficiaryRole, Event};
    use crate::vocabulary::{FormOfExploitation, YearMonth};

    fn v1_registration() -> Value {
        json!({
            "beneficiary_id": "0193a7c2-0000-7000-8000-000000000001",
            "organisation": "0193a7c2-0000-7000-8000-000000000002",
            "caseworker": "0193a7c2-0000-7000-8000-000000000003",
            "case_code": "AL-2009-014",
            "gender": "Female",
            "birth_year": 1991,
            "citizenship": "AL",
            "country_of_assistance": "AL",
            "identified_on": "2009-03-02",
            "identification_route": "law_enforcement",
            "form_of_exploitation": "SexualExploitation",
            "role": { "kind": "primary" }
        })
    }

    #[test]
    fn a_version_1_registration_reads_as_version_2() {
        let event =
            Event::decode("BeneficiaryRegistered", 1, &v1_registration().to_string()).unwrap();
        let Event::BeneficiaryRegistered(r) = event else {
            panic!("wrong type")
        };
        assert_eq!(
            r.birth,
            Some(YearMonth {
                year: 1991,
                month: 12
            })
        );
        assert_eq!(
            r.forms_of_exploitation,
            vec![FormOfExploitation::SexualExploitation]
        );
        assert_eq!(r.role, BeneficiaryRole::Primary);
        assert_eq!(r.case_code, "AL-2009-014");
    }

    #[test]
    fn unknown_versions_and_types_are_refused() {
        let payload = v1_registration().to_string();
        assert!(matches!(
            Event::decode("BeneficiaryRegistered", 3, &payload),
            Err(DecodeError::UnknownVersion { version: 3, .. })
        ));
        assert!(matches!(
            Event::decode("Nonsense", 1, "{}"),
            Err(DecodeError::UnknownType(_))
        ));
        assert!(matches!(
            Event::decode("ConsentGiven", 1, r#"{"scope": 7}"#),
            Err(DecodeError::Payload { .. })
        ));
    }
}
