//! The indicator framework: how each reintegration domain is scored in a monitoring assessment.
//!
//! A framework is data, not code: a program can define its own (as JSON) and every assessment
//! names the framework version it was scored against, so old scores keep their meaning.

use serde::{Deserialize, Serialize};

use crate::events::DomainScore;
use crate::vocabulary::ReintegrationDomain;

/// One version of a program's indicator framework.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    /// Increases whenever scales or indicators change.
    pub version: u32,
    /// A name for people.
    pub name: String,
    /// One indicator per domain.
    pub indicators: Vec<Indicator>,
}

/// How one domain is scored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// The domain.
    pub domain: ReintegrationDomain,
    /// What is observed.
    pub question: String,
    /// The scale's labels from lowest (score 1) to highest (score = number of labels).
    pub scale: Vec<String>,
    /// How the caseworker verifies the score.
    pub means_of_verification: String,
}

impl Framework {
    /// The indicator for a domain, if the framework scores it.
    pub fn indicator(&self, domain: ReintegrationDomain) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.domain == domain)
    }

    /// Checks an assessment's scores: known domains, each once, each on its scale.
    pub fn check(&self, scores: &[DomainScore]) -> Result<(), String> {
        let mut seen = Vec::with_capacity(scores.len());
        for s in scores {
            let Some(indicator) = self.indicator(s.domain) else {
                return Err(format!(
                    "framework {} does not score {:?}",
                    self.version, s.domain
                ));
            };
            if seen.contains(&s.domain) {
                return Err(format!("{:?} is scored twice", s.domain));
            }
            seen.push(s.domain);
            let top = indicator.scale.len() as u8;
            if !(1..=top).contains(&s.score) {
                return Err(format!(
                    "the score for {:?} must be between 1 and {top}",
                    s.domain
                ));
            }
        }
        Ok(())
    }
}

/// The default framework (version 1): the eight domains of reintegration, each on a four-step
/// scale from "serious problems" to "fully met", after the TVRP's monitoring approach.
pub fn default_framework() -> Framework {
    let scale = |labels: [&str; 4]| labels.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let indicator = |domain, question: &str, labels, verification: &str| Indicator {
        domain,
        question: question.to_string(),
        scale: scale(labels),
        means_of_verification: verification.to_string(),
    };
    use ReintegrationDomain::*;
    Framework {
        version: 1,
        name: "Reintegration domains (default)".to_string(),
        indicators: vec![
            indicator(
                Safety,
                "Is the person safe from the traffickers and from violence?",
                ["in danger", "at risk", "mostly safe", "safe"],
                "interview and risk assessment",
            ),
            indicator(
                LegalStatus,
                "Does the person have identity documents, legal status and access to justice?",
                [
                    "no documents or status",
                    "in process",
                    "documents, open legal issues",
                    "fully settled",
                ],
                "copies of documents, case file",
            ),
            indicator(
                Housing,
                "Does the person have a safe, stable place to live and a reasonable standard of living?",
                [
                    "homeless or in shelter",
                    "temporary",
                    "stable but inadequate",
                    "stable and adequate",
                ],
                "home visit",
            ),
            indicator(
                EconomicSituation,
                "Can the person meet their needs from their own income?",
                [
                    "no income",
                    "irregular income",
                    "regular but insufficient",
                    "sufficient and stable",
                ],
                "interview, payslips or business records",
            ),
            indicator(
                EducationAndSkills,
                "Is the person in education or training, or using skills gained?",
                [
                    "none",
                    "enrolled",
                    "attending regularly",
                    "completed or using skills",
                ],
                "school or training records",
            ),
            indicator(
                PhysicalHealth,
                "Is the person's physical health good or being treated?",
                [
                    "serious untreated problems",
                    "under treatment",
                    "minor problems",
                    "good",
                ],
                "medical records with consent",
            ),
            indicator(
                MentalWellbeing,
                "How is the person's mental well-being?",
                ["in crisis", "struggling", "coping", "well"],
                "psychologist's assessment",
            ),
            indicator(
                FamilyAndSocialRelations,
                "Does the person have supportive family and social relations?",
                [
                    "isolated or in conflict",
                    "few and strained",
                    "some support",
                    "well supported",
                ],
                "interview, home visit",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_framework_scores_every_domain_once() {
        let framework = default_framework();
        for domain in ReintegrationDomain::ALL {
            assert!(framework.indicator(domain).is_some(), "{domain:?}");
        }
        assert_eq!(framework.indicators.len(), ReintegrationDomain::ALL.len());
    }

    #[test]
    fn scores_are_checked_against_the_scale() {
        let framework = default_framework();
        let score = |domain, score| DomainScore { domain, score };
        assert!(
            framework
                .check(&[score(ReintegrationDomain::Safety, 4)])
                .is_ok()
        );
        assert!(
            framework
                .check(&[score(ReintegrationDomain::Safety, 5)])
                .unwrap_err()
                .contains("between 1 and 4")
        );
        assert!(
            framework
                .check(&[score(ReintegrationDomain::Safety, 0)])
                .is_err()
        );
        let twice = [
            score(ReintegrationDomain::Housing, 2),
            score(ReintegrationDomain::Housing, 3),
        ];
        assert!(framework.check(&twice).unwrap_err().contains("twice"));
    }

    #[test]
    fn a_framework_is_data() {
        let framework = default_framework();
        let json = serde_json::to_string(&framework).unwrap();
        assert_eq!(serde_json::from_str::<Framework>(&json).unwrap(), framework);
    }
}
