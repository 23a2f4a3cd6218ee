//! A large drop: every file filed exactly once, in passes that do not
//! hand anything twice.

use std::collections::HashMap;

use passerelle_watch::Scanner;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_small_files_are_all_filed_exactly_once() {
    const FILES: usize = 2_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    for i in 0..FILES {
        write(
            drop,
            &format!("piece-{i:05}.xml"),
            format!("<n>{i}</n>").as_bytes(),
        );
    }
    let ingest = Recorder::default();
    let mut scanner = Scanner::new(folder(drop));
    let t = t0();

    let first = scanner.pass(&ingest, t).await.expect("pass");
    assert_eq!(first.waiting, FILES as u64);
    let second = scanner.pass(&ingest, after(t, 11)).await.expect("pass");
    assert_eq!(second.filed, FILES as u64);
    let third = scanner.pass(&ingest, after(t, 22)).await.expect("pass");
    assert_eq!((third.filed, third.waiting), (0, 0));

    let mut counts: HashMap<String, usize> = HashMap::new();
    for name in ingest.names() {
        *counts.entry(name).or_default() += 1;
    }
    assert_eq!(counts.len(), FILES);
    assert!(counts.values().all(|&n| n == 1), "a file handed twice");
    assert_eq!(names(&traite(drop, after(t, 11))).len(), 2 * FILES);
    assert!(dropped(drop).is_empty());
}
