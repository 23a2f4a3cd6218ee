//! Certificate renewal without restart: a renewed server certificate serves
//! new connections, a broken one is refused and logged and the current one
//! kept, so a renewal tool cannot take an edge off the air.

use super::*;

#[tokio::test]
async fn a_renewed_server_certificate_serves_new_connections_without_restart() -> anyhow::Result<()>
{
    let pki = Pki::new()?;
    let edge = pki.edge()?;
    let stop = CancellationToken::new();
    let tls = ReloadingTls::server(edge.files.clone(), policy(&[INTERNAL]), stop.clone())?;
    let server = Edge::start(tls.clone()).await?;
    let probe = client_config(&pki.internal()?.files, &node(EDGE))?;
    assert_eq!(served_serial(server.addr, &probe).await?, vec![1]);

    pki.issue(Leaf {
        serial: 2,
        ..Leaf::server("edge", EDGE)
    })?;
    eventually("the reload", || tls.generation() >= 2).await?;

    assert_eq!(served_serial(server.addr, &probe).await?, vec![2]);
    let channel = connect(&server.url(), Some("localhost"), &standard_client(&pki)?).await?;
    assert_eq!(hello(channel).await?.edge_node_id, EDGE);
    stop.cancel();
    Ok(())
}

#[tokio::test]
async fn a_broken_renewal_keeps_the_current_certificate_and_is_logged() -> anyhow::Result<()> {
    let pki = Pki::new()?;
    let edge = pki.edge()?;
    let stop = CancellationToken::new();
    let tls = ReloadingTls::server(edge.files.clone(), policy(&[INTERNAL]), stop.clone())?;
    let server = Edge::start(tls.clone()).await?;

    replace(
        &edge.files.cert,
        b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n",
    )?;
    let cert = edge.files.cert.display().to_string();
    eventually("the refusal to be logged", || {
        log_lines()
            .iter()
            .any(|line| line.contains("new TLS material refused") && line.contains(&cert))
    })
    .await?;

    assert_eq!(tls.generation(), 1);
    let probe = client_config(&pki.internal()?.files, &node(EDGE))?;
    assert_eq!(served_serial(server.addr, &probe).await?, vec![1]);
    stop.cancel();
    Ok(())
}
