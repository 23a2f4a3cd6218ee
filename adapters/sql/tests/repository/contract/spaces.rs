//! Spaces, memberships and document types.

use passerelle_core::doctype::{DocumentType, FieldDef, FieldKind};
use passerelle_core::ids::{PrincipalId, Revision, SpaceId};
use passerelle_core::model::{GrantedBy, Page, Visibility};
use passerelle_core::ports::{Repository, SpaceWithRole};
use passerelle_core::role::Role;

use super::{Outcome, Row, T0, agent, assert_conflict, at, member, read, save, space, write};

pub async fn spaces_round_trip_exactly_and_are_found_by_slug(repo: &dyn Repository) -> Outcome {
    let p = agent("owner");
    let private = space("construction-piscine", "Construction de la piscine", p.id);
    let mut public = space("budget-2027", "Budget primitif 2027", p.id);
    public.visibility = Visibility::Public;
    public.edge = Some("edge-1".parse().expect("node id"));
    public.archived = true;
    public.domain = "Finances".into();
    public.description = String::new();
    public.created_at = at(T0 + 7);
    public.revision = Revision(9);
    save(
        repo,
        [Row::from(&p), Row::from(&private), Row::from(&public)],
    )
    .await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.space(private.id).await?, Some(private.clone()));
    assert_eq!(tx.space(public.id).await?, Some(public.clone()));
    assert_eq!(tx.space_by_slug("budget-2027").await?, Some(public));
    assert_eq!(tx.space_by_slug("nope").await?, None);
    assert_eq!(tx.space(SpaceId::new()).await?, None);
    Ok(())
}

pub async fn saving_a_space_again_overwrites_it(repo: &dyn Repository) -> Outcome {
    let p = agent("owner");
    let before = space("voirie", "Voirie", p.id);
    save(repo, [Row::from(&p), Row::from(&before)]).await?;
    let mut after = before.clone();
    after.title = "Voirie et réseaux".into();
    after.archived = true;
    after.edge = Some("edge-2".parse().expect("node id"));
    after.revision = Revision(12);
    save(repo, [Row::from(&after)]).await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.space(before.id).await?, Some(after.clone()));
    assert_eq!(tx.list_spaces(Page::all()).await?.total, 1);
    Ok(())
}

pub async fn a_duplicate_slug_is_a_conflict(repo: &dyn Repository) -> Outcome {
    let p = agent("owner");
    let first = space("culture", "Culture", p.id);
    save(repo, [Row::from(&p), Row::from(&first)]).await?;
    let mut tx = write(repo).await?;
    assert_conflict(
        tx.save_space(&space("culture", "Autre", p.id)).await,
        "same slug",
    );
    drop(tx);
    assert_eq!(
        read(repo).await?.space_by_slug("culture").await?,
        Some(first)
    );
    Ok(())
}

pub async fn spaces_are_listed_by_title_case_insensitively_with_paging_and_total(
    repo: &dyn Repository,
) -> Outcome {
    let p = agent("owner");
    let titles = ["beta", "Alpha", "gamma", "Delta", "alpha"];
    let spaces: Vec<_> = titles
        .iter()
        .enumerate()
        .map(|(i, t)| space(&format!("s-{i}"), t, p.id))
        .collect();
    save(
        repo,
        std::iter::once(Row::from(&p)).chain(spaces.iter().map(Row::from)),
    )
    .await?;

    let mut tx = read(repo).await?;
    let all = tx.list_spaces(Page::all()).await?;
    let listed: Vec<_> = all.items.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(listed, ["Alpha", "alpha", "beta", "Delta", "gamma"]);
    let page = tx.list_spaces(Page::new(1, 3)).await?;
    let listed: Vec<_> = page.items.iter().map(|s| s.title.as_str()).collect();
    assert_eq!((listed, page.total), (vec!["alpha", "beta", "Delta"], 5));
    Ok(())
}

pub async fn spaces_of_a_principal_are_its_non_removed_memberships_with_role(
    repo: &dyn Repository,
) -> Outcome {
    let (p, q) = (agent("p.p"), agent("q.q"));
    let s1 = space("urbanisme", "Urbanisme", q.id);
    let s2 = space("achats", "Achats", q.id);
    let s3 = space("ancien", "Ancien", q.id);
    let s4 = space("autre", "Autre", q.id);
    let s5 = space("termine", "Terminé", q.id);
    let mut removed = member(&s3, &p, Role::Manager);
    removed.removed = true;
    // An access that ends: listed before its end, not from that instant.
    let hour = 3_600_000_000_000;
    let mut ending = member(&s5, &p, Role::Contributor);
    ending.ends_at = Some(at(T0 + hour));
    let mut later = member(&s2, &p, Role::Reader);
    later.ends_at = Some(at(T0 + 30 * 24 * hour));
    save(
        repo,
        [
            Row::from(&p),
            Row::from(&q),
            Row::from(&s1),
            Row::from(&s2),
            Row::from(&s3),
            Row::from(&s4),
            Row::from(&member(&s1, &p, Role::Manager)),
            Row::from(&s5),
            Row::from(&later),
            Row::from(&ending),
            Row::from(&removed),
            Row::from(&member(&s4, &q, Role::Collaborator)),
        ],
    )
    .await?;

    let mut tx = read(repo).await?;
    let mine = tx
        .list_spaces_of(p.id, at(T0 + hour), Page::default())
        .await?;
    let expected = vec![
        SpaceWithRole {
            space: s2.clone(),
            role: Role::Reader,
        },
        SpaceWithRole {
            space: s1.clone(),
            role: Role::Manager,
        },
    ];
    assert_eq!((mine.items, mine.total), (expected, 2));
    let second = tx
        .list_spaces_of(p.id, at(T0 + hour), Page::new(1, 1))
        .await?;
    assert_eq!((second.items.len(), second.total), (1, 2));
    assert_eq!(second.items[0].space, s1);
    let nobody = tx
        .list_spaces_of(PrincipalId::new(), at(T0), Page::default())
        .await?;
    assert_eq!((nobody.items.len(), nobody.total), (0, 0));
    let before = tx.list_spaces_of(p.id, at(T0), Page::default()).await?;
    let titles: Vec<_> = before
        .items
        .iter()
        .map(|s| s.space.title.as_str())
        .collect();
    assert_eq!(titles, ["Achats", "Terminé", "Urbanisme"]);
    // The sweep finds the ended access from its end, and only it.
    assert_eq!(tx.memberships_ended(at(T0)).await?, vec![]);
    assert_eq!(
        tx.memberships_ended(at(T0 + hour)).await?,
        vec![ending.clone()]
    );
    Ok(())
}

pub async fn memberships_round_trip_and_members_exclude_removed_ones(
    repo: &dyn Repository,
) -> Outcome {
    let mut people: Vec<_> = ["a.a", "b.b", "c.c"].into_iter().map(agent).collect();
    people.sort_by_key(|p| p.id);
    let s = space("transports", "Transports", people[0].id);
    let other = space("culture", "Culture", people[0].id);
    let m0 = member(&s, &people[0], Role::Manager);
    let mut m1 = member(&s, &people[1], Role::Contributor);
    m1.ends_at = Some(at(T0 + 86_400_000_000_000));
    m1.granted_by = GrantedBy::Directory;
    let mut m2 = member(&s, &people[2], Role::Reader);
    m2.removed = true;
    let elsewhere = member(&other, &people[1], Role::Reader);
    let mut rows: Vec<Row> = people.iter().map(Row::from).collect();
    rows.extend([
        Row::from(&s),
        Row::from(&other),
        Row::from(&m1),
        Row::from(&m2),
        Row::from(&m0),
        Row::from(&elsewhere),
    ]);
    save(repo, rows).await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.membership(s.id, people[1].id).await?, Some(m1.clone()));
    assert_eq!(
        tx.membership(s.id, people[2].id).await?,
        Some(m2.clone()),
        "removed rows are still found"
    );
    assert_eq!(tx.membership(other.id, people[0].id).await?, None);
    assert_eq!(tx.list_members(s.id).await?, vec![m0.clone(), m1.clone()]);
    drop(tx);

    let mut promoted = m1.clone();
    promoted.role = Role::Collaborator;
    promoted.revision = Revision(30);
    let mut back = m2.clone();
    back.removed = false;
    save(repo, [Row::from(&promoted), Row::from(&back)]).await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.list_members(s.id).await?, vec![m0, promoted, back]);
    Ok(())
}

fn doc_type(key: &str, label: &str) -> DocumentType {
    DocumentType {
        key: key.into(),
        label: label.into(),
        domain: "Finances".into(),
        description: "Pièce justificative".into(),
        retention_years: 10,
        fields: vec![
            FieldDef {
                key: "numero".into(),
                label: "Numéro".into(),
                kind: FieldKind::Text,
                required: true,
            },
            FieldDef {
                key: "montant_ttc".into(),
                label: "Montant TTC".into(),
                kind: FieldKind::Decimal,
                required: true,
            },
            FieldDef {
                key: "quantite".into(),
                label: "Quantité".into(),
                kind: FieldKind::Integer,
                required: false,
            },
            FieldDef {
                key: "echeance".into(),
                label: "Échéance".into(),
                kind: FieldKind::Date,
                required: false,
            },
            FieldDef {
                key: "statut".into(),
                label: "Statut".into(),
                kind: FieldKind::Enum {
                    values: vec!["reçue".into(), "payée".into()],
                },
                required: false,
            },
            FieldDef {
                key: "urgent".into(),
                label: "Urgent".into(),
                kind: FieldKind::Boolean,
                required: false,
            },
        ],
        revision: Revision(3),
    }
}

pub async fn document_types_round_trip_with_their_fields(repo: &dyn Repository) -> Outcome {
    let facture = doc_type("facture", "Facture");
    let mut acte = doc_type("acte-administratif", "Acte administratif");
    acte.fields.clear();
    acte.retention_years = 0;
    let mut tx = write(repo).await?;
    tx.save_document_type(&facture).await?;
    tx.save_document_type(&acte).await?;
    tx.commit().await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.document_type("facture").await?, Some(facture.clone()));
    assert_eq!(tx.document_type("inconnu").await?, None);
    assert_eq!(
        tx.list_document_types().await?,
        vec![acte.clone(), facture.clone()]
    );
    drop(tx);

    let mut changed = facture.clone();
    changed.label = "Facture fournisseur".into();
    changed.fields.pop();
    changed.revision = Revision(8);
    let mut tx = write(repo).await?;
    tx.save_document_type(&changed).await?;
    tx.commit().await?;
    assert_eq!(
        read(repo).await?.list_document_types().await?,
        vec![acte, changed]
    );
    Ok(())
}
