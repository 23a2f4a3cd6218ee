//! What mutual TLS refuses, on either side, each refusal logged by the side
//! that refused so an operator can tell why a link is down: clients the edge
//! must not serve (no certificate, a foreign CA, expired, a node outside the
//! allow-list, TLS 1.2), servers the internal node must not trust (another
//! name, another node id, another edge's certificate), and configurations
//! refused before any connection.

use super::*;

#[tokio::test]
async fn a_client_without_certificate_is_refused_and_logged() -> anyhow::Result<()> {
    let pki = Pki::new()?;
    let server = Edge::start(fixed_server(&pki.edge()?.files)?).await?;
    let anonymous = raw_client(&pki, &[&rustls::version::TLS13], None)?;

    let failure = refused_on_first_call(&server, &anonymous).await?;

    server.logged_refusal("peer sent no certificates").await?;
    assert!(server.seen().is_empty(), "{failure}");
    Ok(())
}

#[tokio::test]
async fn a_client_certificate_from_a_foreign_ca_is_refused_and_logged() -> anyhow::Result<()> {
    let pki = Pki::new()?;
    let foreign = Pki::named("Foreign CA")?;
    let server = Edge::start(fixed_server(&pki.edge()?.files)?).await?;
    let stranger = foreign.issue(Leaf::client("stranger", INTERNAL))?;
    let files = TlsFiles {
        ca: pki.ca_path.clone(),
        ..stranger.files
    };
    let client = ReloadingTls::fixed(client_config(&files, &node(EDGE))?);

    refused_on_first_call(&server, &client).await?;

    server.logged_refusal("UnknownIssuer").await?;
    assert!(server.seen().is_empty());
    Ok(())
}

#[tokio::test]
async fn an_expired_client_certificate_is_refused_and_logged() -> anyhow::Result<()> {
    let pki = Pki::new()?;
    let server = Edge::start(fixed_server(&pki.edge()?.files)?).await?;
    let expired = pki.issue(Leaf {
        expired: true,
        ..Leaf::client("expired", INTERNAL)
    })?;
    // Built by hand: `client_config` itself refuses an expired own certificate.
    let client = raw_client(&pki, &[&rustls::version::TLS13], Some(&expired))?;

    refused_on_first_call(&server, &client).await?;

    server.logged_refusal("certificate expired").await?;
    assert!(server.seen().is_empty());
    Ok(())
}

#[tokio::test]
async fn a_client_node_missing_from_the_allow_list_is_refused_and_logged() -> anyhow::Result<()> {
    let pki = Pki::new()?;
    let server = Edge::start(fixed_server(&pki.edge()?.files)?).await?;
    let intruder = pki.issue(Leaf::client("intruder", "intruder"))?;
    let client = ReloadingTls::fixed(client_config(&intruder.files, &node(EDGE))?);

    refused_on_first_call(&server, &client).await?;

    server
        .logged_refusal("node intruder is not in the allow-list")
        .await?;
    assert!(server.seen().is_empty());
    Ok(())
}

#[tokio::test]
async fn a_tls_1_2_client_is_refused_and_logged() -> anyhow::Result<()> {
    let pki = Pki::new()?;
    let server = Edge::start(fixed_server(&pki.edge()?.files)?).await?;
    let internal = pki.internal()?;
    let old = raw_client(&pki, &[&rustls::version::TLS12], Some(&internal))?;

    // The server refuses the ClientHello itself: `connect` already fails.
    let outcome = connect(&server.url(), Some("localhost"), &old).await;

    ensure!(outcome.is_err(), "a TLS 1.2 client connected");
    server.logged_refusal("incompatible").await?;
    assert!(server.seen().is_empty());
    Ok(())
}

#[tokio::test]
async fn a_server_certificate_for_another_name_is_refused_by_the_client_and_logged()
-> anyhow::Result<()> {
    let pki = Pki::new()?;
    let other = pki.issue(Leaf {
        dns: &["other.example"],
        ip: None,
        ..Leaf::server("other", EDGE)
    })?;
    let server = Edge::start(fixed_server(&other.files)?).await?;

    let outcome = connect(&server.url(), Some("localhost"), &standard_client(&pki)?).await;

    ensure!(
        matches!(outcome, Err(TlsError::Unreachable { .. })),
        "{outcome:?}"
    );
    server
        .logged_client_refusal("certificate not valid for name \"localhost\"")
        .await?;
    assert!(server.seen().is_empty());
    Ok(())
}

#[tokio::test]
async fn a_server_with_an_unexpected_node_id_is_refused_by_the_client_and_logged()
-> anyhow::Result<()> {
    let pki = Pki::new()?;
    let impostor = pki.issue(Leaf::server("impostor", "edge-2"))?;
    let server = Edge::start(fixed_server(&impostor.files)?).await?;

    let outcome = connect(&server.url(), Some("localhost"), &standard_client(&pki)?).await;

    ensure!(
        matches!(outcome, Err(TlsError::Unreachable { .. })),
        "{outcome:?}"
    );
    server
        .logged_client_refusal("certificate names node edge-2, but this link is for node edge-1")
        .await?;
    assert!(server.seen().is_empty());
    Ok(())
}

#[tokio::test]
async fn a_server_presenting_another_edges_certificate_is_refused_by_that_edges_link()
-> anyhow::Result<()> {
    // Two configured edges, each with a valid certificate of the same CA.
    let pki = Pki::new()?;
    let edge_1 = pki.edge()?;
    let edge_2 = pki.issue(Leaf::server("edge-2", "edge-2"))?;
    let internal = pki.internal()?;
    let link_to_edge_2 = ReloadingTls::fixed(client_config(&internal.files, &node("edge-2"))?);

    // At edge-2's address, a process holding edge-1's certificate.
    let impostor = Edge::start(fixed_server(&edge_1.files)?).await?;
    let outcome = first_call(&impostor, &link_to_edge_2).await;

    ensure!(
        outcome.is_err(),
        "the edge-2 link was served by edge-1's certificate"
    );
    impostor
        .logged_client_refusal("certificate names node edge-1, but this link is for node edge-2")
        .await?;
    assert!(impostor.seen().is_empty());

    // The same link, to the real edge-2.
    let genuine = Edge::start(fixed_server(&edge_2.files)?).await?;
    first_call(&genuine, &link_to_edge_2)
        .await
        .context("the edge-2 link to edge-2")?;
    assert_eq!(genuine.seen().len(), 1);
    Ok(())
}

#[test]
fn client_config_refuses_an_expired_own_certificate() -> anyhow::Result<()> {
    let pki = Pki::new()?;
    let expired = pki.issue(Leaf {
        expired: true,
        ..Leaf::client("expired", INTERNAL)
    })?;
    let outcome = client_config(&expired.files, &node(EDGE));
    assert!(matches!(
        outcome,
        Err(TlsError::OwnCertificateOutOfValidity { .. })
    ));
    Ok(())
}

#[test]
fn an_empty_allow_list_is_a_configuration_error() -> anyhow::Result<()> {
    let pki = Pki::new()?;
    let outcome = server_config(&pki.edge()?.files, &policy(&[]));
    assert!(matches!(outcome, Err(TlsError::Policy(_))));
    Ok(())
}
