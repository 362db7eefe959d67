//! The content that ships with the product: the built-in agenda templates
//! (SPEC §4 "Template", §5 `templates`) and the question bank behind
//! `questions [CATEGORY]` and the suggestions on an empty agenda (SPEC §8).
//!
//! The wording follows what makes 1:1s work: the report leads, the meeting
//! is about the person and their growth rather than a status update, and
//! every prompt is concrete enough to answer in a few minutes. Template items
//! become talking points verbatim, so each reads as an agenda line, and stays
//! well under the 300 characters the tests allow.
//!
//! Pure data and a deterministic picker: no I/O, no clock, no randomness
//! beyond the caller's seed.

use super::model::Category;

/// An agenda template that ships with the product. It cannot be changed or
/// deleted by a workspace, and its name cannot be reused for one of theirs.
#[derive(Debug)]
pub struct BuiltinTemplate {
    /// Lower-case, unique (ignoring case); what `template NAME` matches.
    pub name: &'static str,
    /// One line for the `templates` listing.
    pub summary: &'static str,
    /// Seeded into a new meeting's agenda as talking points, in this order.
    pub items: &'static [&'static str],
}

/// The built-in templates, in the order `templates` lists them.
pub const TEMPLATES: &[BuiltinTemplate] = &[
    BuiltinTemplate {
        name: "weekly check-in",
        summary: "A light weekly rhythm: your topics first, then wins, blockers, priorities and support.",
        items: &[
            "What's on your mind this week? Your topics come first; anything goes.",
            "Wins since we last met, big or small",
            "Where are you stuck or slowed down, and what would unblock you?",
            "Top priorities until we next meet: do we agree on what matters most?",
            "What do you need from me: context, a decision, an introduction, air cover?",
            "Feedback both ways: one thing to keep doing, one thing to change",
        ],
    },
    BuiltinTemplate {
        name: "career development",
        summary: "Where you want to grow, the skills to get there, and one concrete next step.",
        items: &[
            "Where would you like to be in one to three years, and what draws you there?",
            "Which parts of your work give you energy, and which drain it?",
            "The skills you want to build next, and a project where you could practise them",
            "Who could you learn from, inside or outside the team?",
            "What would make the next six months a success for your growth?",
            "One concrete step each of us takes before our next career conversation",
        ],
    },
    BuiltinTemplate {
        name: "first 1:1",
        summary: "For a new report: get to know each other and agree how you will work together.",
        items: &[
            "Getting to know each other: your background, and what you enjoy outside work",
            "How do you like to get feedback: written or spoken, in the moment or saved for our 1:1?",
            "How do you prefer to communicate, and when should I not interrupt your focus?",
            "What did your best manager do that you'd like me to do too? And what should I avoid?",
            "What would you like to learn or achieve in your first three months?",
            "How often and how long should we meet, and what should these 1:1s be for?",
            "Anything you are unsure or worried about, or anything you wish I knew about you?",
        ],
    },
    BuiltinTemplate {
        name: "performance feedback",
        summary: "A two-way conversation about impact and growth, starting with your own view.",
        items: &[
            "Your view first: what went well this period, and what would you do differently?",
            "Specific examples of your impact that I noticed, and why they mattered",
            "One or two areas to grow in, with examples and what good looks like",
            "Feedback for me: what should I start, stop or keep doing to support you?",
            "Next steps we agree on, and how we'll know they are working",
        ],
    },
    BuiltinTemplate {
        name: "quarterly goals",
        summary: "Look back on last quarter and agree on two or three outcomes for the next one.",
        items: &[
            "Looking back: which goals landed, which slipped, and what did we learn?",
            "What matters most for the team and the company next quarter?",
            "Your goals for the quarter: two or three outcomes, not a task list",
            "How we'll measure progress, and when we'll check in on it",
            "Risks, dependencies, and the support you will need",
            "One goal about your own growth, not only about delivery",
        ],
    },
    BuiltinTemplate {
        name: "skip-level",
        summary: "For a manager's manager: how the team is really doing and what gets in its way.",
        items: &[
            "What is going well on the team that leadership may not see?",
            "What gets in the way of the team doing its best work?",
            "How clear are the team's priorities, and how do they connect to the company's?",
            "How well supported do you feel in your growth, by your manager and the team?",
            "If you were in my role, what is one thing you would change?",
            "What should I take back from this conversation, and what should stay between us?",
        ],
    },
    BuiltinTemplate {
        name: "wellbeing check",
        summary: "Time for how you are really doing: energy, workload and what would help.",
        items: &[
            "How are you really doing, from 1 to 10? What would move it up by one?",
            "How sustainable is your workload right now?",
            "Are you able to switch off after work and take your time off?",
            "What is draining your energy lately, and what recharges it?",
            "Only if you want to share: is anything outside work affecting you, where flexibility would help?",
            "What could we change (priorities, deadlines, meetings) to make the next few weeks better?",
        ],
    },
];

/// Folds a template name for comparison: trimmed, lower case, `-` and `_`
/// read as spaces, runs of spaces collapsed. `Weekly_Check-In` and
/// `weekly check in` both find "weekly check-in".
fn fold_name(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .replace(['-', '_'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The built-in template called `name`, ignoring case, surrounding space and
/// the difference between `-`, `_` and a space.
pub fn builtin_template(name: &str) -> Option<&'static BuiltinTemplate> {
    let wanted = fold_name(name);
    if wanted.is_empty() {
        return None;
    }
    TEMPLATES.iter().find(|t| fold_name(t.name) == wanted)
}

/// Who a question is written for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Asker {
    /// A question the manager asks the report.
    Manager,
    /// A topic or question the report brings to the manager.
    Report,
}

/// One entry of the question bank.
#[derive(Debug)]
pub struct Question {
    pub category: Category,
    pub asker: Asker,
    pub text: &'static str,
}

const fn q(category: Category, asker: Asker, text: &'static str) -> Question {
    Question { category, asker, text }
}

use Asker::{Manager as M, Report as R};
use Category::{Development as Dev, Feedback as Fb, Goals, Other, Recognition as Rec, Wellbeing as Well};

/// The question bank: ten per main category (five for each side) and a few
/// that fit nowhere else. Within a category and side, the order is the one
/// `questions` lists them in, the most broadly useful first.
pub const QUESTIONS: &[Question] = &[
    // Goals
    q(
        Goals,
        M,
        "Which of your goals feels most at risk right now, and what would help?",
    ),
    q(
        Goals,
        M,
        "If you could finish only one thing this month, what should it be?",
    ),
    q(
        Goals,
        M,
        "How does what you are working on connect to what the team is trying to achieve?",
    ),
    q(
        Goals,
        M,
        "Is there a goal you care about that isn't written down anywhere yet?",
    ),
    q(
        Goals,
        M,
        "What should we drop or postpone to make room for what matters more?",
    ),
    q(
        Goals,
        R,
        "Here is where I am on my goals: do we still agree on what success looks like?",
    ),
    q(
        Goals,
        R,
        "Which of my priorities matters most to you this month, and why?",
    ),
    q(
        Goals,
        R,
        "What is coming up for the team that I should start planning for now?",
    ),
    q(
        Goals,
        R,
        "Can we revisit a goal that no longer makes sense after what changed?",
    ),
    q(Goals, R, "Which decision am I waiting on, and by when do I need it?"),
    // Feedback
    q(Fb, M, "What is one thing I could do differently to support you better?"),
    q(Fb, M, "What did I do recently that you found helpful, or unhelpful?"),
    q(
        Fb,
        M,
        "Is there feedback you've been holding back, for me or for the team?",
    ),
    q(
        Fb,
        M,
        "How do you feel about the feedback you got on your last project?",
    ),
    q(
        Fb,
        M,
        "Which of our team's ways of working would you change if you could?",
    ),
    q(
        Fb,
        R,
        "What is one thing I should keep doing, and one thing I should do differently?",
    ),
    q(
        Fb,
        R,
        "How did my last project or presentation land from where you sat?",
    ),
    q(
        Fb,
        R,
        "I have some feedback on how we work together. Can we make time for it?",
    ),
    q(Fb, R, "Where am I falling short of what you expect at my level?"),
    q(
        Fb,
        R,
        "Have you heard anything about my work from others that I should know?",
    ),
    // Development
    q(Dev, M, "What would you like to be doing more of a year from now?"),
    q(
        Dev,
        M,
        "Which skill would you like to build next, and how can I help you practise it?",
    ),
    q(
        Dev,
        M,
        "Is there a project, stretch assignment or event that would help you grow?",
    ),
    q(Dev, M, "Who in the company would you like to learn from?"),
    q(
        Dev,
        M,
        "Which part of your role are you ready to hand over, to make room for something new?",
    ),
    q(
        Dev,
        R,
        "What would it take for me to reach the next level, and where am I today?",
    ),
    q(Dev, R, "Is there an upcoming project where I could stretch myself?"),
    q(
        Dev,
        R,
        "What do you see as my biggest strength, and how could I use it more?",
    ),
    q(
        Dev,
        R,
        "Can we write a development plan together, with one step for this month?",
    ),
    q(
        Dev,
        R,
        "Could you introduce me to someone whose role I'd like to understand better?",
    ),
    // Recognition
    q(Rec, M, "What are you most proud of from the last few weeks?"),
    q(
        Rec,
        M,
        "Whose help made a difference for you recently, and do they know?",
    ),
    q(
        Rec,
        M,
        "How do you like to be recognised: in public, in private, or in writing?",
    ),
    q(Rec, M, "Which part of your work do you feel went unnoticed?"),
    q(Rec, M, "Which win from this week should we celebrate with the team?"),
    q(Rec, R, "I'd like to share a win from this week, and what made it work."),
    q(
        Rec,
        R,
        "Someone on the team helped me a lot. Can we make sure it's recognised?",
    ),
    q(
        Rec,
        R,
        "Is my work visible to the people who need to see it? If not, how do we fix that?",
    ),
    q(
        Rec,
        R,
        "Which of my recent contributions had the most impact, from your point of view?",
    ),
    q(
        Rec,
        R,
        "Could we share the team's recent success more widely, and credit the people behind it?",
    ),
    // Wellbeing
    q(Well, M, "How are you doing, really, and not just at work?"),
    q(
        Well,
        M,
        "How is your energy lately, from 1 to 10? What would move it up one point?",
    ),
    q(
        Well,
        M,
        "Is your workload sustainable right now? What could we take off your plate?",
    ),
    q(Well, M, "Are you able to take real breaks and use your time off?"),
    q(
        Well,
        M,
        "Is anything making work harder at the moment that I could help with?",
    ),
    q(
        Well,
        R,
        "My workload has been heavy lately. Can we look at priorities together?",
    ),
    q(
        Well,
        R,
        "I'd like to talk about more flexibility in my schedule for a while.",
    ),
    q(
        Well,
        R,
        "I'm planning some time off. How should we handle cover while I'm away?",
    ),
    q(
        Well,
        R,
        "Something is affecting my energy at the moment, and I'd like you to know.",
    ),
    q(Well, R, "Which meetings could I drop to protect some focus time?"),
    // Other
    q(
        Other,
        M,
        "What would you like to talk about that we never seem to get to?",
    ),
    q(
        Other,
        M,
        "Is there anything about what's happening in the company you'd like to know more about?",
    ),
    q(Other, R, "I'd like your view on a decision I'm weighing up."),
    q(
        Other,
        R,
        "Can you give me context on a recent team or company change I don't fully understand?",
    ),
];

/// The question bank, or one category of it, in bank order.
pub fn questions(category: Option<Category>) -> impl Iterator<Item = &'static Question> {
    QUESTIONS
        .iter()
        .filter(move |q| category.is_none_or(|c| q.category == c))
}

/// SplitMix64: a tiny, well-mixed and stable generator. Stability matters more
/// than quality here: the same meeting must always suggest the same questions,
/// on every replica and after every upgrade of the toolchain.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Deterministic pick of `n` questions for an empty agenda (suggestions vary
/// by `seed`, e.g. meeting id), reports' questions first, distinct categories
/// where possible.
///
/// The order is built in rounds: each round takes one report question from
/// every category, then one manager question from every category. The
/// categories' order within a round and the question taken from each are
/// shuffled by `seed`; "other" always comes last, since it is the least
/// helpful prompt for a first topic. No question repeats, and asking for more
/// than the bank holds returns the whole bank.
pub fn suggest(seed: u64, n: usize) -> Vec<&'static Question> {
    let mut rng = seed;
    // Category order for this seed: the five main ones rotated, then "other".
    let main = [
        Category::Goals,
        Category::Feedback,
        Category::Development,
        Category::Recognition,
        Category::Wellbeing,
    ];
    let shift = (splitmix64(&mut rng) % main.len() as u64) as usize;
    let mut cats: Vec<Category> = main.iter().cycle().skip(shift).take(main.len()).copied().collect();
    cats.push(Category::Other);

    // For every (category, side), the bank's questions in a seeded order.
    let mut pools: Vec<(Asker, Vec<&'static Question>)> = Vec::new();
    for asker in [Asker::Report, Asker::Manager] {
        for &c in &cats {
            let mut pool: Vec<&'static Question> = questions(Some(c)).filter(|q| q.asker == asker).collect();
            // Fisher–Yates, driven by the seed.
            for i in (1..pool.len()).rev() {
                let j = (splitmix64(&mut rng) % (i as u64 + 1)) as usize;
                pool.swap(i, j);
            }
            pools.push((asker, pool));
        }
    }

    let mut out = Vec::with_capacity(n.min(QUESTIONS.len()));
    let rounds = pools.iter().map(|(_, p)| p.len()).max().unwrap_or(0);
    'rounds: for round in 0..rounds {
        for (_, pool) in &pools {
            if out.len() >= n {
                break 'rounds;
            }
            if let Some(q) = pool.get(round) {
                out.push(*q);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const MAIN: [Category; 5] = [
        Category::Goals,
        Category::Feedback,
        Category::Development,
        Category::Recognition,
        Category::Wellbeing,
    ];

    #[test]
    fn the_bank_has_at_least_eight_questions_per_main_category_for_both_sides() {
        assert!(QUESTIONS.len() >= 48, "only {} questions", QUESTIONS.len());
        for c in MAIN {
            let all: Vec<_> = questions(Some(c)).collect();
            assert!(all.len() >= 8, "{c:?} has {}", all.len());
            for asker in [Asker::Manager, Asker::Report] {
                let side = all.iter().filter(|q| q.asker == asker).count();
                assert!(side >= 3, "{c:?} has only {side} for {asker:?}");
            }
        }
        let other = questions(Some(Category::Other)).count();
        assert!((2..8).contains(&other), "a few 'other' questions, got {other}");
    }

    #[test]
    fn questions_without_a_category_lists_the_whole_bank() {
        assert_eq!(questions(None).count(), QUESTIONS.len());
        let by_category: usize = Category::ALL.iter().map(|c| questions(Some(*c)).count()).sum();
        assert_eq!(by_category, QUESTIONS.len());
    }

    #[test]
    fn every_question_is_distinct_short_and_tidy() {
        let mut seen = HashSet::new();
        for q in QUESTIONS {
            assert!(seen.insert(q.text.to_lowercase()), "duplicate question: {}", q.text);
            assert!(q.text.chars().count() <= 300, "too long: {}", q.text);
            assert_eq!(q.text, q.text.trim(), "stray whitespace: {:?}", q.text);
            assert!(
                !q.text.contains(['*', '_', '`', '~', '<', '>', '\n']),
                "markup in: {}",
                q.text
            );
        }
    }

    #[test]
    fn there_are_at_least_five_templates_with_the_promised_names() {
        assert!(TEMPLATES.len() >= 5);
        for name in [
            "weekly check-in",
            "career development",
            "first 1:1",
            "performance feedback",
            "quarterly goals",
        ] {
            assert!(builtin_template(name).is_some(), "missing {name}");
        }
    }

    #[test]
    fn template_names_are_unique_ignoring_case_and_separators() {
        let mut seen = HashSet::new();
        for t in TEMPLATES {
            assert!(seen.insert(fold_name(t.name)), "duplicate template name: {}", t.name);
            assert_eq!(t.name, t.name.to_lowercase(), "names are lower case: {}", t.name);
        }
    }

    #[test]
    fn template_items_and_summaries_are_short_and_not_empty() {
        for t in TEMPLATES {
            assert!(!t.summary.is_empty() && t.summary.chars().count() <= 300, "{}", t.name);
            assert!(
                (3..=10).contains(&t.items.len()),
                "{} has {} items",
                t.name,
                t.items.len()
            );
            let mut seen = HashSet::new();
            for item in t.items {
                assert!(!item.trim().is_empty(), "empty item in {}", t.name);
                assert!(item.chars().count() <= 300, "item over 300 chars in {}: {item}", t.name);
                assert!(seen.insert(*item), "duplicate item in {}: {item}", t.name);
            }
        }
    }

    #[test]
    fn builtin_template_ignores_case_space_dashes_and_underscores() {
        let weekly = builtin_template("weekly check-in").map(|t| t.name);
        assert_eq!(weekly, Some("weekly check-in"));
        for spelling in [
            "Weekly Check-In",
            "  weekly check-in ",
            "weekly_check_in",
            "weekly-check-in",
            "WEEKLY  CHECK IN",
        ] {
            assert_eq!(builtin_template(spelling).map(|t| t.name), weekly, "{spelling:?}");
        }
        assert_eq!(builtin_template("First 1:1").map(|t| t.name), Some("first 1:1"));
        assert_eq!(builtin_template("skip level").map(|t| t.name), Some("skip-level"));
        assert!(builtin_template("").is_none());
        assert!(builtin_template("   ").is_none());
        assert!(builtin_template("weekly").is_none());
    }

    #[test]
    fn suggest_is_deterministic_for_a_seed() {
        for seed in [0, 1, 42, u64::MAX] {
            let a: Vec<&str> = suggest(seed, 5).iter().map(|q| q.text).collect();
            let b: Vec<&str> = suggest(seed, 5).iter().map(|q| q.text).collect();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn suggest_varies_with_the_seed() {
        let picks: HashSet<Vec<&str>> = (0..20)
            .map(|s| suggest(s, 3).iter().map(|q| q.text).collect())
            .collect();
        assert!(
            picks.len() > 10,
            "only {} different suggestions for 20 seeds",
            picks.len()
        );
    }

    #[test]
    fn suggest_puts_reports_first_from_distinct_main_categories() {
        for seed in 0..50 {
            let picks = suggest(seed, 5);
            assert_eq!(picks.len(), 5);
            assert!(picks.iter().all(|q| q.asker == Asker::Report), "seed {seed}");
            let cats: HashSet<Category> = picks.iter().map(|q| q.category).collect();
            assert_eq!(cats.len(), 5, "seed {seed}: categories repeat");
            assert!(
                !cats.contains(&Category::Other),
                "seed {seed}: 'other' before the main categories"
            );
        }
    }

    #[test]
    fn suggest_never_repeats_and_stops_at_the_size_of_the_bank() {
        assert!(suggest(7, 0).is_empty());
        for seed in [3, 99] {
            let all = suggest(seed, 1000);
            assert_eq!(all.len(), QUESTIONS.len());
            let distinct: HashSet<&str> = all.iter().map(|q| q.text).collect();
            assert_eq!(distinct.len(), all.len());
            // Every report question comes before the manager questions of the same round.
            let first_manager = all.iter().position(|q| q.asker == Asker::Manager).unwrap_or(all.len());
            assert!(first_manager >= Category::ALL.len());
        }
    }
}
