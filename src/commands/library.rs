//! Commands that read the product's own content: help, the question bank and
//! agenda templates (built-in, plus each workspace's own).

use super::resolve::{Actor, inv};
use super::{Ctx, Res, adapt_example, oops};
use crate::domain::content::{self, Asker};
use crate::domain::grammar::{USAGES, usage_of};
use crate::domain::model::Category;
use crate::domain::reply::{Outcome, Reply, Text};
use crate::store::StoreError;

pub(crate) fn help(ctx: &Ctx<'_>, topic: Option<&str>) -> Reply {
    let pre = inv(ctx);
    if let Some(topic) = topic {
        let topic = topic.trim().to_lowercase();
        if let Some(u) = usage_of(&topic) {
            return Reply::new()
                .section(Text::new().code(format!("{pre}{}", u.usage)).newline().plain(u.summary))
                .context(
                    Text::new()
                        .plain("Example: ")
                        .code(adapt_example(ctx.invocation, u.example)),
                );
        }
        return Reply::text(
            Text::new()
                .plain("There's no command called ")
                .bold_user(topic)
                .plain(". Here's everything I can do:"),
        )
        .section(all_usages(&pre));
    }
    Reply::new()
        .header("oneonone — better 1:1s, right in chat")
        .section(
            "Keep a shared agenda with your manager or report, notes and action items; I post the agenda before each 1:1 and nudge when one is skipped or overdue.",
        )
        .section(all_usages(&pre))
        .context(Text::new().plain("More on one command: ").code(format!("{pre}help add")))
}

fn all_usages(pre: &str) -> Text {
    let mut t = Text::new();
    for (i, u) in USAGES.iter().enumerate() {
        if i > 0 {
            t = t.newline();
        }
        t = t.code(format!("{pre}{}", u.usage)).plain(format!(" — {}", u.summary));
    }
    t
}

pub(crate) fn questions(category: Option<Category>) -> Reply {
    let cats: Vec<Category> = match category {
        Some(c) => vec![c],
        None => Category::ALL.to_vec(),
    };
    let per = if category.is_some() { usize::MAX } else { 2 };
    let mut reply = Reply::new().header(match category {
        Some(c) => format!("Questions about {}", c.title().to_lowercase()),
        None => "Questions for better 1:1s".to_string(),
    });
    for c in cats {
        let mut t = Text::new().bold(c.title());
        let mut any = false;
        for asker in [Asker::Report, Asker::Manager] {
            let qs: Vec<_> = content::questions(Some(c))
                .filter(|q| q.asker == asker)
                .take(per)
                .collect();
            for q in qs {
                any = true;
                let who = match asker {
                    Asker::Report => "to bring",
                    Asker::Manager => "to ask",
                };
                t = t.newline().plain(format!("• {} ({who})", q.text));
            }
        }
        if any {
            reply = reply.section(t);
        }
    }
    if category.is_none() {
        reply = reply
            .context("More in one area: `questions goals`, `feedback`, `development`, `recognition`, `wellbeing`.");
    }
    reply
}

pub(crate) async fn templates(ctx: &Ctx<'_>, actor: &Actor) -> Res<Outcome> {
    let mut t = Text::new().bold("Built-in templates");
    for b in content::TEMPLATES {
        t = t.newline().plain(format!("• {} — {}", b.name, b.summary));
    }
    let own = ctx.db.templates(actor.workspace.id).await?;
    let mut reply = Reply::text(t);
    if !own.is_empty() {
        let mut t = Text::new().bold("This workspace's templates");
        for tpl in &own {
            t = t
                .newline()
                .plain("• ")
                .user(tpl.name.clone())
                .plain(format!(" ({} items)", tpl.items.len()));
        }
        reply = reply.section(t);
    }
    Ok(reply
        .context(
            Text::new()
                .plain("Show one with ")
                .code(format!("{}template weekly check-in", inv(ctx)))
                .plain(", make your own with ")
                .code(format!("{}template new NAME: item; item", inv(ctx))),
        )
        .into())
}

pub(crate) async fn template_show(ctx: &Ctx<'_>, actor: &Actor, name: &str) -> Res<Outcome> {
    let (title, items): (String, Vec<String>) = match content::builtin_template(name) {
        Some(b) => (b.name.to_string(), b.items.iter().map(|s| s.to_string()).collect()),
        None => match ctx.db.template_by_name(actor.workspace.id, name).await? {
            Some(t) => (t.name, t.items),
            None => {
                return oops(
                    Text::new()
                        .plain("There's no template called ")
                        .bold_user(name.to_string())
                        .plain(". See them all with ")
                        .code(format!("{}templates", inv(ctx))),
                );
            }
        },
    };
    let mut t = Text::new().bold_user(title.clone());
    for (i, item) in items.iter().enumerate() {
        t = t.newline().plain(format!("{}. ", i + 1)).user(item.clone());
    }
    Ok(Reply::text(t)
        .context(
            Text::new()
                .plain("Use it with ")
                .code(format!("{}setup @person weekly on monday template {title}", inv(ctx))),
        )
        .into())
}

pub(crate) async fn template_new(ctx: &Ctx<'_>, actor: &Actor, name: &str, items: Vec<String>) -> Res<Outcome> {
    if content::builtin_template(name).is_some() {
        return oops(
            Text::new()
                .bold_user(name.to_string())
                .plain(" is a built-in template and can't be changed. Pick another name for yours."),
        );
    }
    match ctx
        .db
        .create_template(actor.workspace.id, name, &items, actor.person.id, ctx.now)
        .await
    {
        Ok(t) => Ok(
            Reply::text(Text::new().plain("Template ").bold_user(t.name.clone()).plain(format!(
                " saved with {} item{}.",
                t.items.len(),
                if t.items.len() == 1 { "" } else { "s" }
            )))
            .into(),
        ),
        Err(StoreError::Conflict(_)) => oops(
            Text::new()
                .plain("This workspace already has a template called ")
                .bold_user(name.to_string())
                .plain(". Delete it first or choose another name."),
        ),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn template_delete(ctx: &Ctx<'_>, actor: &Actor, name: &str) -> Res<Outcome> {
    if content::builtin_template(name).is_some() {
        return oops(
            Text::new()
                .bold_user(name.to_string())
                .plain(" is built in and can't be deleted."),
        );
    }
    let Some(t) = ctx.db.template_by_name(actor.workspace.id, name).await? else {
        return oops(
            Text::new()
                .plain("There's no template called ")
                .bold_user(name.to_string())
                .plain(" in this workspace."),
        );
    };
    // Only the person who made a template may delete it: a colleague's
    // template disappearing under them would be a nasty surprise.
    if t.created_by != actor.person.id {
        let who = ctx
            .db
            .person(actor.workspace.id, t.created_by)
            .await?
            .map_or_else(|| "someone else".to_string(), |p| p.display_name);
        return oops(
            Text::new()
                .plain("Only ")
                .bold_user(who)
                .plain(", who made ")
                .bold_user(t.name.clone())
                .plain(", can delete it."),
        );
    }
    ctx.db.delete_template(actor.workspace.id, &t.name).await?;
    Ok(Reply::text(Text::new().plain("Deleted template ").bold_user(t.name)).into())
}
