---------------------------- MODULE GroupCommit ----------------------------
(***************************************************************************)
(* datawal-core SharedLog / SharedWal: group commit.  Several threads of  *)
(* one writer process append to the active segment and call sync(); one  *)
(* thread at a time (the leader, holding the sync token) captures the     *)
(* txid the next append gets, fdatasyncs with no lock held, and publishes *)
(* the captured txid as durable; a thread returns Ok once the published   *)
(* durable txid reaches its target (the txid the next append got when its *)
(* sync began), else it waits while a sync runs, or leads the next one.   *)
(*                                                                         *)
(* A record is a unique id, and ids grow in append order, so an id plays  *)
(* the txid within one process (txids are never reused by a live writer). *)
(* `cache` is the segment as the OS shows it; `disk` what the disk holds  *)
(* at the same positions (TORN: garbage, or never written back); `dirty`  *)
(* the positions not yet written back.  fdatasync writes every dirty      *)
(* position back; a FAILED fdatasync writes back an arbitrary part of     *)
(* them and marks all of them clean (Linux after a writeback error: the   *)
(* page cache keeps the bytes, the disk may not have them, and a later    *)
(* fdatasync has nothing left to write and succeeds).                     *)
(*                                                                         *)
(* At any point the process may be killed (the page cache survives) or    *)
(* the machine lose power (each dirty position is written back or not).   *)
(* The next open recovers the longest valid prefix and cuts the rest.     *)
(* Rotation is not modelled: under the token it is a sync (RecordLog      *)
(* model) followed by a new file.  A leader's gathering (waiting for the  *)
(* threads of the last group before it captures) is a delay between      *)
(* Check and Capture, which the model already allows: other threads may   *)
(* take any steps while a leader is at "capture".                          *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    NumWriters,     \* threads appending and syncing
    MaxRecords,     \* records appended over the whole run (ids 1..MaxRecords)
    MaxRestarts,    \* kills and power cuts over the whole run
    MaxFailures,    \* failing fdatasyncs over the whole run
    EarlyAck,       \* bug: the leader publishes its target before it syncs
    PoisonOnFail,   \* TRUE: a failed sync poisons the handle for every
                    \*   thread.  FALSE (bug): it fails the leader only, and
                    \*   the next leader syncs again (and succeeds)
    TruncateBack,   \* TRUE: a failed sync cuts the segment back to its
                    \*   length at the last successful sync (durably) before
                    \*   the handle is poisoned.  FALSE (bug): the bytes of
                    \*   unknown durability stay in the file
    AssumeUnsynced, \* TRUE: open counts what it recovered as not yet
                    \*   durable.  FALSE (bug): as durable, so a sync with
                    \*   nothing new returns at once
    OpenSyncs       \* TRUE: a reopened writer syncs what it recovered
                    \*   before its first append, so "the length at the last
                    \*   successful sync" is known.  FALSE (bug): it starts
                    \*   from the recovered length, which a killed writer
                    \*   may have left unsynced

Writers == 1..NumWriters
TORN == 0

VARIABLES
    cache,       \* Seq of record ids: the active segment (OS view)
    disk,        \* Seq of ids or TORN, as long as cache: the disk's bytes
    dirty,       \* positions of cache not yet written back
    nid,         \* next record id (the txid the next append gets)
    known,       \* ids this process holds in its log (recovered or appended)
    pc,          \* pc[w]: "idle" "check" "wait" "capture" "fsync"
                 \*   "publish" "failsync" (leading), "failed" (told so)
    target,      \* target[w]: the sync covers ids below it
    cap,         \* cap[w]: the leader's captured next id
    capLen,      \* capLen[w]: the segment's length at the capture
    waited,      \* waited[w]: this sync waited for another thread's
    durable,     \* published: every id below it is durable
    busy,        \* the sync token is taken
    poisoned,    \* the sync state is poisoned
    logPoisoned, \* the RecordLog is poisoned (appends fail)
    syncedLen,   \* the segment's length at the last successful sync
    acked,       \* ids some thread was told are durable
    restarts,
    failures,
    openSynced,  \* what this process recovered has been synced
    followerAck, \* ghost: a thread returned Ok from a sync it did not lead
    failNid      \* ghost: nid at the first failed sync (0: none yet)

vars == <<cache, disk, dirty, nid, known, pc, target, cap, capLen, waited,
          durable, busy, poisoned, logPoisoned, syncedLen, acked, restarts,
          failures, openSynced, followerAck, failNid>>

Range(s) == {s[i] : i \in DOMAIN s}
Max(a, b) == IF a > b THEN a ELSE b

\* Length of the longest valid prefix of a segment.
ValidLen(c) ==
    IF \E i \in 1..Len(c) : c[i] = TORN
    THEN (CHOOSE i \in 1..Len(c) : c[i] = TORN /\ \A j \in 1..(i-1) : c[j] # TORN) - 1
    ELSE Len(c)

\* The records a power cut right now cannot lose: the valid prefix of what
\* the disk holds, with nothing more written back.
OnDisk == Range(SubSeq(disk, 1, ValidLen(disk)))

\* The disk after the dirty positions in S are written back.
WriteBack(S) == [i \in 1..Len(disk) |-> IF i \in S THEN cache[i] ELSE disk[i]]

---------------------------------------------------------------------------

Init ==
    /\ cache = <<>>
    /\ disk = <<>>
    /\ dirty = {}
    /\ nid = 1
    /\ known = {}
    /\ pc = [w \in Writers |-> "idle"]
    /\ target = [w \in Writers |-> 0]
    /\ cap = [w \in Writers |-> 0]
    /\ capLen = [w \in Writers |-> 0]
    /\ waited = [w \in Writers |-> FALSE]
    /\ durable = 1
    /\ busy = FALSE
    /\ poisoned = FALSE
    /\ logPoisoned = FALSE
    /\ syncedLen = 0
    /\ acked = {}
    /\ restarts = 0
    /\ failures = 0
    /\ openSynced = TRUE
    /\ followerAck = FALSE
    /\ failNid = 0

\* append(): under the writer lock, the record reaches the page cache.
\* Appends never wait for the token, except the first one of a reopened
\* writer when OpenSyncs (it syncs what was recovered first: StartSync).
DoAppend(w) ==
    /\ pc[w] = "idle"
    /\ ~logPoisoned
    /\ openSynced
    /\ nid <= MaxRecords
    /\ cache' = Append(cache, nid)
    /\ disk' = Append(disk, TORN)
    /\ dirty' = dirty \cup {Len(cache) + 1}
    /\ known' = known \cup {nid}
    /\ nid' = nid + 1
    /\ UNCHANGED <<pc, target, cap, capLen, waited, durable, busy, poisoned,
                   logPoisoned, syncedLen, acked, restarts, failures,
                   openSynced, followerAck, failNid>>

\* sync(): the target is the txid the next append gets, read at the call.
StartSync(w) ==
    /\ pc[w] = "idle"
    /\ pc' = [pc EXCEPT ![w] = "check"]
    /\ target' = [target EXCEPT ![w] = nid]
    /\ waited' = [waited EXCEPT ![w] = FALSE]
    /\ UNCHANGED <<cache, disk, dirty, nid, known, cap, capLen, durable, busy,
                   poisoned, logPoisoned, syncedLen, acked, restarts, failures,
                   openSynced, followerAck, failNid>>

\* Under the sync-state mutex: covered -> Ok; poisoned -> error; a sync
\* runs -> wait; else take the token and lead.
Check(w) ==
    /\ pc[w] = "check"
    /\ IF durable >= target[w]
       THEN /\ acked' = acked \cup {r \in known : r < target[w]}
            /\ followerAck' = (followerAck \/ (waited[w] /\ \E r \in known : r < target[w]))
            /\ pc' = [pc EXCEPT ![w] = "idle"]
            /\ UNCHANGED <<busy, waited>>
       ELSE /\ UNCHANGED <<acked, followerAck>>
            /\ IF poisoned
               THEN /\ pc' = [pc EXCEPT ![w] = "failed"]
                    /\ UNCHANGED <<busy, waited>>
               ELSE IF busy
                    THEN /\ pc' = [pc EXCEPT ![w] = "wait"]
                         /\ waited' = [waited EXCEPT ![w] = TRUE]
                         /\ UNCHANGED busy
                    ELSE /\ pc' = [pc EXCEPT ![w] = "capture"]
                         /\ busy' = TRUE
                         /\ UNCHANGED waited
    /\ UNCHANGED <<cache, disk, dirty, nid, known, target, cap, capLen, durable,
                   poisoned, logPoisoned, syncedLen, restarts, failures,
                   openSynced, failNid>>

\* The condvar: the token was given back.
Wake(w) ==
    /\ pc[w] = "wait"
    /\ ~busy
    /\ pc' = [pc EXCEPT ![w] = "check"]
    /\ UNCHANGED <<cache, disk, dirty, nid, known, target, cap, capLen, waited,
                   durable, busy, poisoned, logPoisoned, syncedLen, acked,
                   restarts, failures, openSynced, followerAck, failNid>>

\* The leader, under the writer lock: capture the next txid and the
\* segment's length.  A poisoned log fails the sync and poisons the state.
Capture(w) ==
    /\ pc[w] = "capture"
    /\ IF logPoisoned
       THEN /\ pc' = [pc EXCEPT ![w] = "failed"]
            /\ busy' = FALSE
            /\ poisoned' = TRUE
            /\ UNCHANGED <<cap, capLen, durable>>
       ELSE /\ pc' = [pc EXCEPT ![w] = "fsync"]
            /\ cap' = [cap EXCEPT ![w] = nid]
            /\ capLen' = [capLen EXCEPT ![w] = Len(cache)]
            /\ durable' = (IF EarlyAck THEN Max(durable, nid) ELSE durable)
            /\ UNCHANGED <<busy, poisoned>>
    /\ UNCHANGED <<cache, disk, dirty, nid, known, target, waited, logPoisoned,
                   syncedLen, acked, restarts, failures, openSynced,
                   followerAck, failNid>>

\* fdatasync, no lock held: every dirty position is written back.
FsyncOk(w) ==
    /\ pc[w] = "fsync"
    /\ disk' = WriteBack(dirty)
    /\ dirty' = {}
    /\ pc' = [pc EXCEPT ![w] = "publish"]
    /\ UNCHANGED <<cache, nid, known, target, cap, capLen, waited, durable, busy,
                   poisoned, logPoisoned, syncedLen, acked, restarts, failures,
                   openSynced, followerAck, failNid>>

\* A failed fdatasync: part of the dirty positions is written back, the
\* rest is lost, and all are marked clean.  Then, under the writer lock,
\* the log cuts the segment back to its length at the last successful
\* sync, durably, and poisons itself (modelled as one step with the
\* failure: appends in between are cut as well).  Not modelled: a failure
\* of the sync that covers what a reopened writer recovered (OpenSyncs),
\* after which the next open cannot tell what was lost.
FsyncFail(w) ==
    /\ pc[w] = "fsync"
    /\ failures < MaxFailures
    /\ openSynced
    /\ \E S \in SUBSET dirty :
          LET d == WriteBack(S)
          IN IF TruncateBack
             THEN /\ cache' = SubSeq(cache, 1, syncedLen)
                  /\ disk' = SubSeq(d, 1, syncedLen)
             ELSE /\ disk' = d
                  /\ UNCHANGED cache
    /\ dirty' = {}
    /\ logPoisoned' = PoisonOnFail
    /\ failures' = failures + 1
    /\ failNid' = (IF failNid = 0 THEN nid ELSE failNid)
    /\ pc' = [pc EXCEPT ![w] = "failsync"]
    /\ UNCHANGED <<nid, known, target, cap, capLen, waited, durable, busy,
                   poisoned, syncedLen, acked, restarts, openSynced,
                   followerAck>>

\* The failed leader gives the token back with the poison, and returns
\* its error.
ReportFailure(w) ==
    /\ pc[w] = "failsync"
    /\ poisoned' = PoisonOnFail
    /\ busy' = FALSE
    /\ pc' = [pc EXCEPT ![w] = "idle"]
    /\ UNCHANGED <<cache, disk, dirty, nid, known, target, cap, capLen, waited,
                   durable, logPoisoned, syncedLen, acked, restarts, failures,
                   openSynced, followerAck, failNid>>

\* A thread told "poisoned" returns its error.
GiveUp(w) ==
    /\ pc[w] = "failed"
    /\ pc' = [pc EXCEPT ![w] = "idle"]
    /\ UNCHANGED <<cache, disk, dirty, nid, known, target, cap, capLen, waited,
                   durable, busy, poisoned, logPoisoned, syncedLen, acked,
                   restarts, failures, openSynced, followerAck, failNid>>

\* The leader reports back to the log (the segment is synced up to its
\* capture) and publishes the captured txid; then it re-checks its target.
Publish(w) ==
    /\ pc[w] = "publish"
    /\ syncedLen' = capLen[w]
    /\ durable' = Max(durable, cap[w])
    /\ openSynced' = TRUE
    /\ busy' = FALSE
    /\ pc' = [pc EXCEPT ![w] = "check"]
    /\ UNCHANGED <<cache, disk, dirty, nid, known, target, cap, capLen, waited,
                   poisoned, logPoisoned, acked, restarts, failures,
                   followerAck, failNid>>

\* The state a new process starts in, over the recovered segment `seg`.
Reopen(seg) ==
    /\ cache' = seg
    /\ known' = Range(seg)
    /\ pc' = [w \in Writers |-> "idle"]
    /\ target' = [w \in Writers |-> 0]
    /\ cap' = [w \in Writers |-> 0]
    /\ capLen' = [w \in Writers |-> 0]
    /\ waited' = [w \in Writers |-> FALSE]
    /\ durable' = (IF AssumeUnsynced THEN 1 ELSE nid)
    /\ busy' = FALSE
    /\ poisoned' = FALSE
    /\ logPoisoned' = FALSE
    /\ syncedLen' = Len(seg)
    /\ openSynced' = (seg = <<>> \/ ~OpenSyncs)
    /\ restarts' = restarts + 1

\* SIGKILL, then open: the page cache survives, nothing is cut.
Kill ==
    /\ restarts < MaxRestarts
    /\ Reopen(cache)
    /\ UNCHANGED <<disk, dirty, nid, acked, failures, followerAck, failNid>>

\* Power cut, then open: each dirty position was written back or not; the
\* open cuts the segment to its longest valid prefix, durably.
PowerCut ==
    /\ restarts < MaxRestarts
    /\ \E S \in SUBSET dirty :
          LET d == WriteBack(S)
              v == SubSeq(d, 1, ValidLen(d))
          IN /\ Reopen(v)
             /\ disk' = v
    /\ dirty' = {}
    /\ UNCHANGED <<nid, acked, failures, followerAck, failNid>>

Next ==
    \/ \E w \in Writers :
          \/ DoAppend(w) \/ StartSync(w) \/ Check(w) \/ Wake(w) \/ Capture(w)
          \/ FsyncOk(w) \/ FsyncFail(w) \/ ReportFailure(w) \/ GiveUp(w)
          \/ Publish(w)
    \/ Kill
    \/ PowerCut

Spec == Init /\ [][Next]_vars

---------------------------------------------------------------------------
(* Invariants *)

Leading == {"capture", "fsync", "publish", "failsync"}

TypeOK ==
    /\ Len(disk) = Len(cache)
    /\ dirty \subseteq 1..Len(cache)
    /\ nid \in 1..(MaxRecords + 1)
    /\ pc \in [Writers -> {"idle", "check", "wait", "capture", "fsync",
                           "publish", "failsync", "failed"}]
    /\ Cardinality({w \in Writers : pc[w] \in Leading}) <= 1
    /\ (\E w \in Writers : pc[w] \in Leading) => busy
    /\ syncedLen <= Len(cache)
    /\ restarts \in 0..MaxRestarts
    /\ failures \in 0..MaxFailures

\* Acknowledged => durable: every record a sync returned Ok for is in the
\* valid prefix of what the disk holds, so no power cut can lose it.
AckedIsDurable == acked \subseteq OnDisk

\* No open ever loses an acknowledged record.
NoAckedLoss == acked \subseteq Range(cache)

\* The log holds records in the order they were appended (so each thread
\* finds its own records in its own order).
InAppendOrder == \A i \in 1..Len(cache) : \A j \in 1..Len(cache) :
                    i < j => cache[i] < cache[j]

---------------------------------------------------------------------------
(* Witnesses: must be VIOLATED with the correct constants (reach-*.cfg),  *)
(* showing that the scenarios the invariants are about do happen.         *)

\* A thread waited while another thread's sync ran, then returned Ok for
\* records that sync (or a later one it did not lead) made durable.
NeverFollowerAcked == ~followerAck

\* A sync failed, the process was restarted, and records appended after
\* the failure were acknowledged and are still in the log.
NeverAckedAfterFailure ==
    ~(failNid > 0 /\ restarts > 0 /\ \E r \in acked : r >= failNid /\ r \in Range(cache))

=============================================================================
