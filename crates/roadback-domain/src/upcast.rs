//! Upcasters: each turns one stored schema version of one event type into the next version.
//! Old events are never rewritten; they are upcast every time they are read.

use serde_json::{Value, json};

use crate::events::DecodeError;

/// Turns `payload`, stored as `version` of `event_type`, into `version + 1`.
pub fn upcast(event_type: &str, version: u32, payload: Value) -> Result<Value, DecodeError> {
    match (event_type, version) {
        ("BeneficiaryRegistered", 1) => Ok(beneficiary_registered_v1_to_v2(payload)),
        ("ServiceDelivered", 1) => Ok(service_delivered_v1_to_v2(payload)),
        ("StatusChanged", 1) => Ok(status_changed_v1_to_v2(payload)),
        ("EventCorrected", 1) => Ok(event_corrected_v1_to_v2(payload)),
        _ => Err(DecodeError::UnknownVersion {
            event_type: event_type.to_string(),
            version,
        }),
    }
}

/// Version 1 recorded a birth year only and one form of exploitation; version 2 records year and
/// (when known) month of birth and a list of forms. The month stays unknown: age is counted from
/// the year's end, so it (and with it the guardian rule) is never overstated.
fn beneficiary_registered_v1_to_v2(mut payload: Value) -> Value {
    if let Some(object) = payload.as_object_mut() {
        let birth = match object.remove("birth_year") {
            Some(Value::Number(year)) => json!({ "year": year, "month": null }),
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

/// Version 1 stored the currency as three characters (`["E","U","R"]`) and had no pre-program
/// flag; version 2 stores the code as text and the flag (false: version 1 could not say).
fn service_delivered_v1_to_v2(mut payload: Value) -> Value {
    if let Some(object) = payload.as_object_mut() {
        if let Some(Value::Object(amount)) = object.get_mut("amount")
            && let Some(Value::Array(chars)) = amount.get("currency")
        {
            let code: String = chars.iter().filter_map(Value::as_str).collect();
            amount.insert("currency".into(), Value::String(code));
        }
        object.insert("pre_program".into(), Value::Bool(false));
    }
    payload
}

/// Version 1 stored the status before the change as well; version 2 drops it, since the history
/// in valid-time order says what it was (and a backdated change would have made it stale).
fn status_changed_v1_to_v2(mut payload: Value) -> Value {
    if let Some(object) = payload.as_object_mut() {
        object.remove("from");
    }
    payload
}

/// Version 1 corrections kept the original's day; version 2 states the corrected day (null: the
/// original's).
fn event_corrected_v1_to_v2(mut payload: Value) -> Value {
    if let Some(object) = payload.as_object_mut() {
        object.insert("occurred_on".into(), Value::Null);
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{BeneficiaryRole, Event};
    use crate::vocabulary::{Birth, Currency, FormOfExploitation};

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
            Some(Birth {
                year: 1991,
                month: None
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
    fn version_1_deliveries_status_changes_and_corrections_read_in_the_current_shape() {
        let delivery = json!({
            "service_id": "0193a7c2-0000-7000-8000-000000000009",
            "service": "financial_support",
            "provider": null,
            "from": "2012-05-01",
            "to": null,
            "amount": { "minor_units": 5000, "currency": ["E", "U", "R"] }
        });
        let Event::ServiceDelivered(d) =
            Event::decode("ServiceDelivered", 1, &delivery.to_string()).unwrap()
        else {
            panic!("wrong type")
        };
        assert_eq!(d.amount.unwrap().currency, Currency::new("EUR").unwrap());
        assert!(!d.pre_program);

        let change = json!({ "from": "identified", "to": "in_crisis_care" });
        let Event::StatusChanged(s) =
            Event::decode("StatusChanged", 1, &change.to_string()).unwrap()
        else {
            panic!("wrong type")
        };
        assert_eq!(s.to, crate::Status::InCrisisCare);

        // A version 1 correction holding a version 1 delivery: both upcast.
        let correction = json!({
            "corrects": "0193a7c2-0000-7000-8000-000000000010",
            "event_type": "ServiceDelivered",
            "schema_version": 1,
            "payload": delivery
        });
        let Event::EventCorrected(c) =
            Event::decode("EventCorrected", 1, &correction.to_string()).unwrap()
        else {
            panic!("wrong type")
        };
        assert_eq!(c.occurred_on, None);
        assert!(matches!(*c.replacement, Event::ServiceDelivered(d) if !d.pre_program));
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
