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

impl Relationship {
    /// The relationship in words, as in "a family member (child)".
    pub fn label(self) -> &'static str {
        match self {
            Self::Child => "child",
            Self::Parent => "parent",
            Self::Sibling => "brother or sister",
            Self::Partner => "partner",
            Self::OtherFamily => "other family member",
        }
    }
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

    /// The domain in words, for summaries and messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Safety => "safety",
            Self::LegalStatus => "legal status",
            Self::Housing => "housing and standard of living",
            Self::EconomicSituation => "economic situation",
            Self::EducationAndSkills => "education and skills",
            Self::PhysicalHealth => "physical health",
            Self::MentalWellbeing => "mental well-being",
            Self::FamilyAndSocialRelations => "family and social relations",
        }
    }
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

/// When a person was born, as far as it is known: the year, and the month when known (people
/// often know no more; a missing month stays missing rather than being guessed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Birth {
    /// The year.
    pub year: i32,
    /// The month, 1 to 12, when known.
    #[serde(default)]
    pub month: Option<u32>,
}

impl Birth {
    /// A birth in a known month.
    pub fn in_month(year: i32, month: u32) -> Self {
        Self {
            year,
            month: Some(month),
        }
    }

    /// Full years of age on `date`: counted from the end of the birth month (of the year, when
    /// the month is unknown), so a person is never taken for older than they can be.
    pub fn age_on(&self, date: chrono::NaiveDate) -> i32 {
        use chrono::Datelike;
        let month = self.month.unwrap_or(12) as i32;
        let months = (date.year() - self.year) * 12 + date.month() as i32 - month;
        // In the birth month itself, the birthday may still be ahead: count it as not reached.
        let months = if months >= 0 && (months % 12 == 0) {
            months - 1
        } else {
            months
        };
        months.div_euclid(12)
    }

    /// The earliest day the person can have been born: nothing about them happened before it.
    pub fn earliest_day(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::from_ymd_opt(self.year, self.month.unwrap_or(1), 1)
    }
}

/// An ISO 4217 currency code (three capital letters, e.g. `EUR`, `ALL`, `RSD`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Accepts three capital ASCII letters.
    pub fn new(code: &str) -> Option<Self> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => {
                Some(Self([*a, *b, *c]))
            }
            _ => None,
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value).ok_or_else(|| format!("{value:?} is not an ISO 4217 currency code"))
    }
}

impl From<Currency> for String {
    fn from(code: Currency) -> Self {
        code.as_str().to_string()
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
        let born = Birth::in_month(1995, 6);
        let on = |y, m, d| born.age_on(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert_eq!(on(2013, 5, 31), 17);
        assert_eq!(
            on(2013, 6, 30),
            17,
            "the birthday in June may not have come yet"
        );
        assert_eq!(on(2013, 7, 1), 18);
        assert_eq!(on(1995, 6, 1), -1, "not yet born counts as under age");
        let year_only = Birth {
            year: 1995,
            month: None,
        };
        assert_eq!(
            year_only.age_on(NaiveDate::from_ymd_opt(2013, 12, 31).unwrap()),
            17,
            "with the month unknown, the birthday counts as December's"
        );
        assert_eq!(
            year_only.earliest_day(),
            NaiveDate::from_ymd_opt(1995, 1, 1)
        );
    }

    #[test]
    fn currencies() {
        assert_eq!(Currency::new("EUR").unwrap().to_string(), "EUR");
        for bad in ["eur", "EURO", "", "E1R"] {
            assert!(Currency::new(bad).is_none(), "{bad}");
        }
        assert_eq!(
            serde_json::to_string(&Currency::new("RSD").unwrap()).unwrap(),
            "\"RSD\""
        );
    }
}
