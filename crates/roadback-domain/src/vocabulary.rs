//! The coded values events carry. Stored codes follow the Human Trafficking Case Data Standard
//! (HTCDS, IOM) where it has a list, and ISO 3166-1 for countries; clients translate the labels.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Gender, as HTCDS `prs_Gender`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Transgender or gender non-conforming.
    TransgenderNonConforming,
    /// Not known or not disclosed.
    Unknown,
}

/// A form of exploitation suffered while trafficked (HTCDS exploitation types, grouped as the TVRP reported them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FormOfExploitation {
    /// Sexual exploitation (HTCDS TypeOfSexExploitation).
    SexualExploitation,
    /// Forced labour (HTCDS TypeOfLabourExploitation other than begging and illicit activities).
    LabourExploitation,
    /// Forced begging (HTCDS labour type `Begging`).
    Begging,
    /// Forced criminality (HTCDS labour type `IllicitActivities`).
    ForcedCriminality,
    /// Forced or servile marriage.
    ForcedMarriage,
    /// Another form.
    Other,
}

/// How a person came to the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentificationRoute {
    /// Identified by police or another law enforcement body.
    LawEnforcement,
    /// Found by the organisation's own outreach.
    Outreach,
    /// Came forward on their own.
    SelfReferral,
    /// Referred by another NGO or a service.
    Ngo,
    /// Referred by a government agency or the national referral mechanism.
    Government,
    /// Returned from abroad through an international organisation.
    InternationalOrganisation,
    /// Through family or friends.
    FamilyOrFriends,
    /// Other.
    Other,
}

/// A secondary beneficiary's relation to the primary beneficiary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// Their child.
    Child,
    /// Their parent.
    Parent,
    /// Their brother or sister.
    Sibling,
    /// Their spouse or partner.
    Partner,
    /// Other family member.
    OtherFamily,
}

/// The domains of a reintegration plan and of the monitoring framework.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReintegrationDomain {
    /// Physical safety and security.
    Safety,
    /// Legal status, documents, court proceedings.
    LegalStatus,
    /// Housing and standard of living.
    Housing,
    /// Income, work and economic situation.
    EconomicSituation,
    /// Education, training and skills.
    EducationAndSkills,
    /// Physical health.
    PhysicalHealth,
    /// Mental well-being.
    MentalWellbeing,
    /// Family and social relations.
    FamilyAndSocialRelations,
}

impl ReintegrationDomain {
    /// The eight domains of the default framework, in order.
    pub const ALL: [ReintegrationDomain; 8] = [
        Self::Safety,
        Self::LegalStatus,
        Self::Housing,
        Self::EconomicSituation,
        Self::EducationAndSkills,
        Self::PhysicalHealth,
        Self::MentalWellbeing,
        Self::FamilyAndSocialRelations,
    ];
}

/// What consent covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConsentScope {
    /// Being assisted and having a case file.
    Assistance,
    /// Sharing the case with one named organisation (e.g. for a referral).
    DataSharing {
        /// The organisation that may see the case.
        organisation: uuid::Uuid,
    },
    /// De-identified use in evaluation and research.
    EvaluationUse,
    /// Being contacted for follow-up after the case is closed.
    FollowUpContact,
}

/// Who gave or withdrew consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentGiver {
    /// The beneficiary themself.
    Beneficiary,
    /// A parent or legal guardian, for a child.
    Guardian,
}

/// An ISO 3166-1 alpha-2 country code (`XK` for Kosovo, as used by the EU and IOM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Accepts two capital ASCII letters.
    pub fn new(code: &str) -> Option<Self> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Some(Self([*a, *b])),
            _ => None,
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for CountryCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
            .ok_or_else(|| format!("{value:?} is not an ISO 3166-1 alpha-2 country code"))
    }
}

impl From<CountryCode> for String {
    fn from(code: CountryCode) -> Self {
        code.as_str().to_string()
    }
}

/// A year and month (of birth): people often know no more, and age is computed from what is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct YearMonth {
    /// The year.
    pub year: i32,
    /// The month, 1 to 12.
    pub month: u32,
}

impl YearMonth {
    /// Full years of age on `date` for someone born in this month: counted from the month's last
    /// day, so a person is never taken for older than they can be.
    pub fn age_on(&self, date: chrono::NaiveDate) -> i32 {
        use chrono::Datelike;
        let months = (date.year() - self.year) * 12 + date.month() as i32 - self.month as i32;
        // In the birth month itself, the birthday may still be ahead: count it as not reached.
        let months = if months >= 0 && (months % 12 == 0) {
            months - 1
        } else {
            months
        };
        months.div_euclid(12)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn country_codes() {
        assert_eq!(CountryCode::new("AL").unwrap().as_str(), "AL");
        for bad in ["al", "ALB", "", "A1"] {
            assert!(CountryCode::new(bad).is_none(), "{bad}");
        }
        let json = serde_json::to_string(&CountryCode::new("XK").unwrap()).unwrap();
        assert_eq!(json, "\"XK\"");
        assert!(serde_json::from_str::<CountryCode>("\"xk\"").is_err());
    }

    #[test]
    fn age_is_never_overstated() {
        let born = YearMonth {
            year: 1995,
            month: 6,
        };
        let on = |y, m, d| born.age_on(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert_eq!(on(2013, 5, 31), 17);
        assert_eq!(
            on(2013, 6, 30),
            17,
            "the birthday in June may not have come yet"
        );
        assert_eq!(on(2013, 7, 1), 18);
        assert_eq!(on(1995, 6, 1), -1, "not yet born counts as under age");
    }
}
