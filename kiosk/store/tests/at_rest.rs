//! Encryption at rest on real files: a stolen data folder reveals no candidate, the key is
//! needed and checked, and a plaintext database with its audio from before is converted safely.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use kiosk_store::{KeyError, MediaRef, SCHEMA_VERSION, Store, StoreError, StoreKey};

const NAME: &str = "欧阳娜娜";
const PHONE: &str = "139-1234-5678";
const PHRASE: &str = "在纺织厂做过三年挡车工";

/// Answer audio as the kiosk writes it: sealed with the store key.
fn sealed_audio(store: &Store, dir: &std::path::Path) -> MediaRef {
    let folder = dir.join("media/interview-a");
    std::fs::create_dir_all(&folder).expect("media dir");
    let path = folder.join("q1-1.wav.enc");
    let bytes = store
        .key()
        .seal_to_file(&path, format!("RIFF voice of {NAME} {PHONE}").as_bytes())
        .expect("sealed");
    MediaRef {
        question_id: Some("q1".into()),
        kind: "answer_audio".into(),
        path: path.display().to_string(),
        sha256: None,
        bytes: Some(bytes as i64),
        expires_at: None,
    }
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
}

#[test]
fn a_stolen_data_folder_reveals_no_candidate() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let db = dir.join("kiosk.sqlite3");
    let mut store = Store::open(&db, &key()).expect("opens");
    let media = sealed_audio(&store, &dir);
    let saved = save_with(
        &mut store,
        ["我想找稳定的工作", "可以", PHRASE],
        NAME,
        PHONE,
        vec![media.clone()],
    );
    // Uncheckpointed: the interview is in the WAL. Then checkpointed into the main file.
    for round in ["in the WAL", "checkpointed"] {
        let raw = all_bytes(&dir);
        for needle in [NAME, PHONE, PHRASE, saved.receipt.as_str()] {
            assert!(
                !contains(&raw, needle),
                "{needle} readable on disk ({round})"
            );
        }
        store.checkpoint().expect("checkpoint");
    }
    // With the key everything is there, and the audio opens.
    let seen = dump(&db);
    assert!(seen.contains(NAME) && seen.contains(PHONE) && seen.contains(PHRASE));
    let voice = key()
        .unseal_file(std::path::Path::new(&media.path))
        .expect("unsealed");
    assert!(String::from_utf8_lossy(&voice).contains(NAME));
    // Owner only: the folder 0700, the database, its WAL and the audio 0600.
    assert_eq!(mode(&dir), 0o700);
    for f in [
        db.clone(),
        dir.join("kiosk.sqlite3-wal"),
        std::path::PathBuf::from(&media.path),
    ] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

#[test]
fn the_wrong_key_or_no_key_is_refused_and_says_what_to_do() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("kiosk.sqlite3");
    let key_file = tmp.path().join("store.key");
    let mut store = Store::open_with_key_file(&db, &key_file).expect("makes a key and opens");
    save(&mut store, GOOD);
    drop(store);
    assert!(kiosk_store::is_encrypted(&db));

    let err = Store::open(&db, &StoreKey::generate()).expect_err("another key");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("different store key"), "{err}");

    std::fs::rename(&key_file, tmp.path().join("elsewhere.key")).expect("move the key");
    let err = Store::open_with_key_file(&db, &key_file).expect_err("no key");
    assert!(
        matches!(err, StoreError::Key(KeyError::Missing { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("restore the key file"), "{err}");
    assert!(!key_file.exists(), "no new key is made over encrypted data");

    std::fs::rename(tmp.path().join("elsewhere.key"), &key_file).expect("restore");
    let store = Store::open_with_key_file(&db, &key_file).expect("the kept key opens it");
    assert_eq!(store.outbox_backlog().expect("backlog").pending, 1);
}

#[test]
fn root_is_refused_in_the_kiosk_users_folder_and_leaves_nothing_there() {
    let me = std::process::Command::new("id")
        .arg("-u")
        .output()
        .expect("id");
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        eprintln!("not root: nothing to check (root is what this guards against)");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let db = data.join("kiosk.sqlite3");
    let key_file = tmp.path().join("store.key");
    let mut store = Store::open_with_key_file(&db, &key_file).expect("opens");
    save(&mut store, GOOD);
    drop(store);
    // The kiosk's services run as their own user: the folder is theirs (nobody stands in here).
    for entry in std::fs::read_dir(&data).expect("data") {
        std::os::unix::fs::chown(entry.expect("entry").path(), Some(65534), Some(65534))
            .expect("chown");
    }
    std::os::unix::fs::chown(&data, Some(65534), Some(65534)).expect("chown");
    let before: Vec<_> = std::fs::read_dir(&data)
        .expect("data")
        .map(|e| e.expect("e").file_name())
        .collect();
    let err = Store::open_with_key_file(&db, &key_file).expect_err("root refused");
    assert!(matches!(err, StoreError::NotOwner { .. }), "{err:?}");
    assert!(err.to_string().contains("sudo -u nobody"), "{err}");
    let after: Vec<_> = std::fs::read_dir(&data)
        .expect("data")
        .map(|e| e.expect("e").file_name())
        .collect();
    assert_eq!(before, after, "no root-owned file left behind");
    // Its owner opens it as before.
    std::os::unix::fs::chown(&data, Some(0), Some(0)).expect("chown back");
    Store::open_with_key_file(&db, &key_file).expect("root's own folder opens");
}

/// A database as the kiosk wrote it before encryption at rest: plaintext SQLite, with plaintext
/// WAV files beside it.
fn plaintext_kiosk(dir: &std::path::Path) -> (std::path::PathBuf, Vec<String>) {
    let staging = dir.join("staging.sqlite3");
    let mut store = Store::open(&staging, &key()).expect("opens");
    let folder = dir.join("media/old-interview");
    let media: Vec<MediaRef> = (1..=2)
        .map(|i| {
            audio_file(
                &folder.join(format!("q{i}-1.wav")),
                &format!("q{i}"),
                &format!("RIFF old voice {i} of {NAME}"),
                None,
            )
        })
        .collect();
    save_with(
        &mut store,
        ["我想找稳定的工作", "可以", PHRASE],
        NAME,
        PHONE,
        media,
    );
    save(&mut store, GOOD);
    drop(store);
    let db = dir.join("kiosk.sqlite3");
    let c = raw(&staging);
    c.execute_batch(&format!(
        "ATTACH DATABASE '{}' AS plain KEY ''; SELECT sqlcipher_export('plain'); PRAGMA plain.user_version = {SCHEMA_VERSION}; DETACH DATABASE plain;",
        db.display()
    ))
    .expect("plaintext export");
    drop(c);
    for f in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{f}", staging.display()));
    }
    let paths = (1..=2)
        .map(|i| folder.join(format!("q{i}-1.wav")).display().to_string())
        .collect();
    (db, paths)
}

#[test]
fn a_plaintext_database_and_its_audio_are_converted_on_first_open() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).expect("dir");
    let (db, wavs) = plaintext_kiosk(&dir);
    let before = std::fs::read(&db).expect("read");
    assert!(before.starts_with(b"SQLite format 3\0"));
    assert!(
        contains(&all_bytes(&dir), NAME),
        "the old kiosk left names readable"
    );

    let store = Store::open(&db, &key()).expect("converts and opens");
    assert!(kiosk_store::is_encrypted(&db));
    // Nothing readable is left: not the database, not a copy aside, not the old audio.
    let raw = all_bytes(&dir);
    for needle in [NAME, PHONE, PHRASE] {
        assert!(
            !contains(&raw, needle),
            "{needle} still readable after conversion"
        );
    }
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains("plaintext") && !n.contains("encrypting")),
        "{names:?}"
    );
    // Everything came across: both interviews, and the audio, sealed, under new paths.
    assert_eq!(store.outbox_backlog().expect("backlog").pending, 2);
    assert!(store.check_consistency().expect("check").is_empty());
    let seen = dump(&db);
    assert!(seen.contains(NAME) && seen.contains(PHRASE));
    for old in &wavs {
        assert!(!std::path::Path::new(old).exists(), "{old} removed");
        let sealed = format!("{old}{}", kiosk_store::SEALED_SUFFIX);
        assert!(seen.contains(&sealed), "the row points at {sealed}");
        let voice = key()
            .unseal_file(std::path::Path::new(&sealed))
            .expect("unseals");
        assert!(String::from_utf8_lossy(&voice).contains("old voice"));
    }
    drop(store);
    // A second open has nothing left to do.
    let again = Store::open(&db, &key()).expect("re-opens");
    assert_eq!(again.outbox_backlog().expect("backlog").pending, 2);
}

#[test]
fn a_conversion_cut_off_between_its_renames_is_finished_on_the_next_open() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (db, _) = plaintext_kiosk(tmp.path());
    // The crash: the plaintext was moved aside and the encrypted copy never put in place.
    let aside = tmp.path().join("kiosk.sqlite3.plaintext");
    std::fs::rename(&db, &aside).expect("aside");
    let store = Store::open(&db, &key()).expect("finishes the conversion");
    assert!(kiosk_store::is_encrypted(&db));
    assert!(!aside.exists());
    assert_eq!(store.outbox_backlog().expect("backlog").pending, 2);
}

#[test]
fn a_backup_stays_encrypted_and_restores_on_a_replacement_box_with_the_kept_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("old-box/data");
    let mut store = Store::open(&dir.join("kiosk.sqlite3"), &key()).expect("opens");
    let media = sealed_audio(&store, &dir);
    save_with(
        &mut store,
        ["我想找稳定的工作", "可以", PHRASE],
        NAME,
        PHONE,
        vec![media],
    );
    save(&mut store, GOOD);
    let out = tmp.path().join("backup");
    let m = store.backup_to(&out).expect("backed up");
    assert_eq!((m.interviews, m.media_files, m.media_skipped), (2, 1, 0));
    assert_eq!(m.key_fingerprint, key().fingerprint());
    let raw = all_bytes(&out);
    for needle in [NAME, PHONE, PHRASE] {
        assert!(!contains(&raw, needle), "{needle} readable in the backup");
    }
    assert!(
        store.backup_to(&out).is_err(),
        "a backup is never overwritten"
    );

    // The replacement box: another data folder; a new key cannot open it, the kept one can.
    let new_db = tmp.path().join("new-box/data/kiosk.sqlite3");
    let err = Store::restore_from(&out, &new_db, &StoreKey::generate()).expect_err("other key");
    assert!(err.to_string().contains("another store key"), "{err}");
    assert!(!new_db.exists());
    let restored = Store::restore_from(&out, &new_db, &key()).expect("restored");
    assert_eq!(restored.outbox_backlog().expect("backlog").pending, 2);
    let seen = dump(&new_db);
    assert!(seen.contains(NAME) && seen.contains(PHRASE));
    let audio = tmp
        .path()
        .join("new-box/data/media/interview-a/q1-1.wav.enc");
    assert!(
        seen.contains(&audio.display().to_string()),
        "paths follow the new folder"
    );
    let voice = key().unseal_file(&audio).expect("the audio came along");
    assert!(String::from_utf8_lossy(&voice).contains(NAME));
    drop(restored);
    let err = Store::restore_from(&out, &new_db, &key()).expect_err("over a database");
    assert!(err.to_string().contains("move it aside"), "{err}");
}
