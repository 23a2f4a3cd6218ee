//! What mutual TLS lets through: the internal node's client, dialling by
//! name or by IP, is served, and the handler sees which node called.

use super::*;

#[tokio::test]
async fn a_valid_client_calls_hello_and_the_handler_sees_its_node_id() -> anyhow::Result<()> {
    let pki = Pki::new()?;
    let server = Edge::start(fixed_server(&pki.edge()?.files)?).await?;
    let channel = connect(&server.url(), Some("localhost"), &standard_client(&pki)?).await?;

    let hello = hello(channel).await?;

    assert_eq!(hello.edge_node_id, EDGE);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, INTERNAL);
    assert_eq!(seen[0].1.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    let stopped = tokio::time::timeout(Duration::from_secs(5), server.shutdown()).await;
    ensure!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "no clean shutdown: {stopped:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_client_dialling_the_ip_without_server_name_is_served() -> anyhow::Result<()> {
    let pki = Pki::new()?;
    let server = Edge::start(fixed_server(&pki.edge()?.files)?).await?;
    let channel = connect(&server.url(), None, &standard_client(&pki)?).await?;
    assert_eq!(hello(channel).await?.edge_node_id, EDGE);
    Ok(())
}
