//! The demo program: a synthetic Trafficking Victims Re/integration Programme (TVRP) modelled on
//! the one NEXUS evaluated (Balkans, 2007–2015): 15 organisations in 7 countries, 1,711 primary
//! beneficiaries (296 male, 651 children at identification), 1,179 family members linked to
//! them, about 60% reintegrated, the rest still in progress, dropped out, lost to contact,
//! moved abroad or re-trafficked.
//!
//! Pure and deterministic: a seed in, the same program out. The program is a list of
//! *commands* ([`Request`]s) per beneficiary; whoever loads it decides each through the
//! domain's [`decide`](roadback_domain::decide) and appends what that returns, so every demo
//! event passed the same rules as a caseworker's. `scale` repeats the program with fresh ids and
//! shifted variation, for benchmarks.

mod random;
mod story;

use chrono::NaiveDate;
use roadback_domain::Request;
use uuid::Uuid;

pub use random::Random;
pub use story::event_id;

/// The namespace of every demo id (UUID v5), so ids depend only on the seed.
const NAMESPACE: Uuid = Uuid::from_u128(0x2f1e_63a8_8c3d_4c52_a0b1_7d9e_5f40_11aa);

/// Published headline figures of the TVRP, reproduced by every copy of the demo.
pub mod figures {
    /// Trafficking victims assisted.
    pub const PRIMARY: usize = 1_711;
    /// Family members assisted.
    pub const SECONDARY: usize = 1_179;
    /// Male victims.
    pub const MALE: usize = 296;
    /// Victims under 18 when identified.
    pub const CHILDREN: usize = 651;
    /// Share of victims successfully reintegrated.
    pub const REINTEGRATED_SHARE: f64 = 0.60;
}

/// The headline figures of a program, counted from its outcome views (the figures the TVRP
/// published, for comparison with [`figures`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Headline {
    /// Primary beneficiaries.
    pub primary: usize,
    /// Family members.
    pub secondary: usize,
    /// Male primary beneficiaries.
    pub male: usize,
    /// Primary beneficiaries under 18 when identified.
    pub children: usize,
    /// Organisations with beneficiaries.
    pub organisations: usize,
    /// Countries of assistance.
    pub countries: usize,
    /// Share of primary beneficiaries reintegrated.
    pub reintegrated_share: f64,
}

impl Headline {
    /// Counts the figures over every beneficiary's outcome: the program results table of the
    /// evaluation engine (`roadback_domain::evaluation::program_results`), whole and by organisation and country.
    pub fn of<'a>(
        outcomes: impl IntoIterator<Item = &'a roadback_domain::projection::Outcome>,
    ) -> Self {
        use roadback_domain::evaluation::{Breakdown, program_results};
        let outcomes: Vec<_> = outcomes.into_iter().cloned().collect();
        let (_, total) = program_results(&outcomes, None, None);
        let groups = |b| program_results(&outcomes, Some(b), None).0.len();
        Self {
            primary: total.assisted as usize,
            secondary: total.family_members as usize,
            male: total.male as usize,
            children: total.children as usize,
            organisations: groups(Breakdown::Organisation),
            countries: groups(Breakdown::Country),
            reintegrated_share: total.share_reintegrated().unwrap_or(0.0),
        }
    }

    /// True when the figures are the TVRP's (the reintegrated share within one point).
    pub fn matches_the_tvrp(&self) -> bool {
        self.primary == figures::PRIMARY
            && self.secondary == figures::SECONDARY
            && self.male == figures::MALE
            && self.children == figures::CHILDREN
            && self.organisations == 15
            && self.countries == 7
            && (self.reintegrated_share - figures::REINTEGRATED_SHARE).abs() <= 0.01
    }
}

/// An organisation of the demo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    /// Its id.
    pub id: Uuid,
    /// Its (fictional) name.
    pub name: String,
    /// ISO 3166-1 alpha-2 country (`XK` for Kosovo).
    pub country: &'static str,
    /// A short handle for demo sign-in addresses.
    pub slug: String,
    /// Its caseworkers' ids (the demo users of role caseworker).
    pub caseworkers: Vec<Uuid>,
}

/// The demo's organisations: names are invented; countries and count follow the TVRP.
pub fn organisations(seed: u64) -> Vec<Organisation> {
    const ORGS: [(&str, &str, &str); 15] = [
        ("Shtëpia e Shpresës", "AL", "shpresa"),
        ("Rruga e Re", "AL", "rrugaere"),
        ("Vatra e Jugut", "AL", "vatra"),
        ("Put Povratka", "BA", "povratak"),
        ("Nadezhda Centre", "BG", "nadezhda"),
        ("Pat Napred", "BG", "napred"),
        ("Qendra Hapi", "XK", "hapi"),
        ("Shtegu i Ri", "XK", "shtegu"),
        ("Nov Pocetok", "MK", "pocetok"),
        ("Most do Domot", "MK", "domot"),
        ("Drum Nou", "RO", "drumnou"),
        ("Casa Sperantei", "RO", "speranta"),
        ("Novi Korak", "RS", "korak"),
        ("Sigurna Luka", "RS", "luka"),
        ("Izlaz", "RS", "izlaz"),
    ];
    ORGS.iter()
        .enumerate()
        .map(|(i, (name, country, slug))| Organisation {
            id: Uuid::new_v5(&NAMESPACE, format!("{seed}/organisation/{i}").as_bytes()),
            name: (*name).to_string(),
            country,
            slug: (*slug).to_string(),
            caseworkers: (0..2)
                .map(|k| Uuid::new_v5(&NAMESPACE, format!("{seed}/caseworker/{i}/{k}").as_bytes()))
                .collect(),
        })
        .collect()
}

/// The program as decisions see it: its organisations and their caseworkers, the primary
/// beneficiaries registered so far and the default indicator framework.
pub struct Program {
    organisations: Vec<Organisation>,
    primaries: std::collections::HashSet<Uuid>,
    framework: roadback_domain::indicators::Framework,
}

impl Program {
    /// The program of these organisations, before anyone is registered.
    pub fn new(organisations: &[Organisation]) -> Self {
        Self {
            organisations: organisations.to_vec(),
            primaries: std::collections::HashSet::new(),
            framework: roadback_domain::indicators::default_framework(),
        }
    }

    /// Notes a registered primary beneficiary (family members link to them).
    pub fn add_primary(&mut self, beneficiary: Uuid) {
        self.primaries.insert(beneficiary);
    }
}

impl roadback_domain::Directory for Program {
    fn is_primary_beneficiary(&self, beneficiary: Uuid) -> bool {
        self.primaries.contains(&beneficiary)
    }
    fn framework(&self, version: u32) -> Option<&roadback_domain::indicators::Framework> {
        (version == self.framework.version).then_some(&self.framework)
    }
    fn is_organisation(&self, organisation: Uuid) -> bool {
        self.organisations.iter().any(|o| o.id == organisation)
    }
    fn is_caseworker_of(&self, user: Uuid, organisation: Uuid) -> bool {
        self.organisations
            .iter()
            .any(|o| o.id == organisation && o.caseworkers.contains(&user))
    }
}

/// One beneficiary's history: the commands that build it, in the order they are recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// The beneficiary.
    pub beneficiary: Uuid,
    /// Index of the organisation in [`organisations`].
    pub organisation: usize,
    /// For a family member, the primary beneficiary (registered first).
    pub primary: Option<Uuid>,
    /// The commands, in recording order (some dated back: late entries).
    pub commands: Vec<Command>,
}

/// A command of the demo: who records what.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// The user recording it (a caseworker of the organisation).
    pub actor: Uuid,
    /// What to decide.
    pub request: Request,
}

/// The demo's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The seed: the same seed gives the same program.
    pub seed: u64,
    /// Copies of the program (1 = the TVRP's size).
    pub scale: u32,
}

/// Every beneficiary's history: for each copy, all primaries first, then their family members.
pub fn histories(config: Config) -> impl Iterator<Item = History> {
    let organisations = organisations(config.seed);
    (0..config.scale.max(1)).flat_map(move |copy| story::copy(config.seed, copy, &organisations))
}

/// The day the demo ends: later facts are not generated.
pub fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2015, 12, 31).expect("valid date")
}

/// What a demo id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub(crate) enum Kind {
    Primary = 1,
    Secondary = 2,
    Event = 3,
    Service = 4,
    Goal = 5,
    Assessment = 6,
    Referral = 7,
}

/// The id of the `n`-th beneficiary of a kind in a copy.
///
/// Demo ids are UUID v8, laid out so that an id made later sorts later: 24 bits of the seed,
/// 24 of the copy, 12 of the kind, then the serial number. The stores' indexes take them at
/// their right edge, as they would time-ordered UUID v7 ids, so loading a million
/// beneficiaries does not scatter writes over a whole index (random v5 ids did).
fn id(seed: u64, copy: u32, kind: Kind, n: usize) -> Uuid {
    let tag = Random::new(seed).next_u64() & 0xFF_FFFF;
    let head = (tag << 24) | u64::from(copy & 0xFF_FFFF);
    ordered(head, kind as u16, n as u64)
}

/// The id of a beneficiary's `n`-th thing of a kind (an event, a service, a goal...): in the
/// beneficiary's copy, ordered by beneficiary, then by `n`.
pub(crate) fn derived(beneficiary: Uuid, kind: Kind, n: usize) -> Uuid {
    let b = beneficiary.as_bytes();
    let head = u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]);
    let beneficiary_kind = u16::from_be_bytes([b[6], b[7]]) & 0x0F;
    let serial = u64::from_be_bytes(b[8..16].try_into().expect("eight bytes")) & (u64::MAX >> 2);
    ordered(
        head,
        ((kind as u16) << 4) | beneficiary_kind,
        (serial << 20) | n as u64,
    )
}

/// A UUID v8 from 48, 12 and 62 bits, in that order.
fn ordered(head: u64, kind: u16, serial: u64) -> Uuid {
    let mut bytes = [0u8; 16];
    bytes[0..6].copy_from_slice(&head.to_be_bytes()[2..8]);
    bytes[6..8].copy_from_slice(&(kind & 0x0FFF).to_be_bytes());
    bytes[8..16].copy_from_slice(&(serial & (u64::MAX >> 2)).to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
