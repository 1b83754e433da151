//! Personal data: what identifies a person. It never enters an event: the vault keeps it
//! encrypted under the person's own data key, and events record only that it changed (which
//! fields) or was erased (and why, as a code, never free text).

use serde::{Deserialize, Serialize};

/// A person's identifying details, as the vault keeps them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalData {
    /// Given name(s).
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// The name the person wants to be called by.
    pub known_as: Option<String>,
    /// Full date of birth (events carry only year and month).
    pub date_of_birth: Option<chrono::NaiveDate>,
    /// Telephone number.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Postal address or whereabouts.
    pub address: Option<String>,
    /// Number of an identity or travel document.
    pub document_number: Option<String>,
    /// Free-text notes (may name people and places).
    pub notes: Option<String>,
}

/// A field of [`PersonalData`], for events saying what changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalField {
    /// Given name(s).
    GivenName,
    /// Family name.
    FamilyName,
    /// Preferred name.
    KnownAs,
    /// Date of birth.
    DateOfBirth,
    /// Telephone.
    Phone,
    /// E-mail.
    Email,
    /// Address.
    Address,
    /// Document number.
    DocumentNumber,
    /// Notes.
    Notes,
}

impl PersonalField {
    /// The field in words.
    pub fn label(self) -> &'static str {
        match self {
            Self::GivenName => "given name",
            Self::FamilyName => "family name",
            Self::KnownAs => "preferred name",
            Self::DateOfBirth => "date of birth",
            Self::Phone => "telephone",
            Self::Email => "e-mail",
            Self::Address => "address",
            Self::DocumentNumber => "document number",
            Self::Notes => "notes",
        }
    }
}

/// Longest value of one field, in characters.
pub const MAX_FIELD_CHARS: usize = 2_000;

impl PersonalData {
    /// The fields that hold a value.
    pub fn fields(&self) -> Vec<PersonalField> {
        use PersonalField::*;
        [
            (GivenName, self.given_name.is_some()),
            (FamilyName, self.family_name.is_some()),
            (KnownAs, self.known_as.is_some()),
            (DateOfBirth, self.date_of_birth.is_some()),
            (Phone, self.phone.is_some()),
            (Email, self.email.is_some()),
            (Address, self.address.is_some()),
            (DocumentNumber, self.document_number.is_some()),
            (Notes, self.notes.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, set)| set.then_some(field))
        .collect()
    }

    /// The text fields with their names, for checks.
    fn texts(&self) -> [(&'static str, &Option<String>); 8] {
        [
            ("givenName", &self.given_name),
            ("familyName", &self.family_name),
            ("knownAs", &self.known_as),
            ("phone", &self.phone),
            ("email", &self.email),
            ("address", &self.address),
            ("documentNumber", &self.document_number),
            ("notes", &self.notes),
        ]
    }

    /// Checks lengths; returns the field at fault and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (name, value) in self.texts() {
            if let Some(v) = value {
                if v.trim().is_empty() {
                    return Err((name, "leave the field out rather than empty".into()));
                }
                if v.chars().count() > MAX_FIELD_CHARS {
                    return Err((name, format!("at most {MAX_FIELD_CHARS} characters")));
                }
            }
        }
        Ok(())
    }
}

/// Why personal data was erased (a code: the reason must not itself carry personal data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureReason {
    /// The person asked for it (right to erasure).
    PersonRequested,
    /// The retention period ended.
    RetentionEnded,
    /// It was recorded about the wrong person or in error.
    RecordedInError,
    /// Keeping it puts the person at risk.
    SafetyRisk,
}

impl ErasureReason {
    /// The reason in words.
    pub fn label(self) -> &'static str {
        match self {
            Self::PersonRequested => "at the person's request",
            Self::RetentionEnded => "the retention period ended",
            Self::RecordedInError => "recorded in error",
            Self::SafetyRisk => "keeping it put the person at risk",
        }
    }
}
