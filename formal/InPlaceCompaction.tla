------------------------- MODULE InPlaceCompaction -------------------------
(***************************************************************************)
(* datawal-core's lifecycle operations on the store directory itself:     *)
(*   DataWal::compact()            rewrite the live set, drop old segments *)
(*   RecordLog::truncate_before(t) drop whole closed segments below t      *)
(* with a crash (process kill or power cut) between any two steps, and a  *)
(* lock-free snapshot reader running at the same time.                    *)
(*                                                                         *)
(* The store is an ordered set of segment files (ids 1..MaxSegs), each a  *)
(* sequence of records [t |-> "put"/"del", k, v, x]: x is the txid, v the  *)
(* value (the txid of the Put that first wrote it, so values are unique   *)
(* and a rewritten Put carries the same v under a new x; 0 for a delete). *)
(* Its meaning is the last-write-wins projection of all segments in id    *)
(* order.                                                                  *)
(*                                                                         *)
(* Page cache vs disk, as in RecordLog: seg/dir/floor are what the OS     *)
(* shows; dur[i] is the durable prefix of segment i; dirDur/floorDur are  *)
(* the directory as of its last fsync, and pend the directory operations  *)
(* since then (create, unlink, the floor file's rename).  A power cut     *)
(* applies some of the pending operations (any subset under POSIX, a      *)
(* prefix if DirOrdered) and keeps, of each file, its durable prefix plus *)
(* any prefix of the rest.  A process kill keeps the page cache as is.    *)
(* Recovery (open) lists the segments present and replays them in order;  *)
(* next txid = max(floor, highest txid present + 1).                      *)
(*                                                                         *)
(* The writes before the operation are durable (each append fsynced, each *)
(* rotation's directory entry synced): what a crash does to unsynced      *)
(* appends is RecordLog's subject, not this model's.                       *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    NKeys,               \* keys 1..NKeys
    MaxOps,              \* records written before the operation
    MaxOld,              \* segments the writes may use
    MaxSegs,             \* segment ids 1..MaxSegs (MaxOld + one per compaction run)
    MaxCrashes,          \* crashes (kill or power cut) over the run
    MaxRuns,             \* runs of the operation (a rerun after a crash included)
    Ops,                 \* operations to check: subset of {"compact", "truncate"}
    Readers,             \* TRUE: a snapshot reader may run concurrently
    RemoveBeforeDurable, \* bug: compaction removes old segments (e) before
                         \*   fsyncing the rewritten live set (c)
    NewestFirst,         \* bug: removal starts with the newest old segment
    NoFloor,             \* bug: no txid floor file is written (step d)
    SyncEachUnlink,      \* TRUE: fsync the directory after every unlink
                         \*   (FALSE: once, after the last one)
    DirOrdered           \* file-system assumption: directory operations reach
                         \*   the disk in the order they were made

VARIABLES
    seg,       \* seg[i]: records of segment i (page cache); <<>> if never made
    dur,       \* dur[i]: length of seg[i]'s durable prefix
    dir,       \* segment ids present in the directory (page cache)
    dirDur,    \* segment ids present as of the last directory fsync
    pend,      \* directory operations since then: [op, id] (id: the floor value)
    floor,     \* txid floor file's value (0: no file), page cache
    floorDur,  \* its value as of the last directory fsync
    nseg,      \* the active segment (the highest id present)
    nextTxid,  \* the writer's next txid
    phase,     \* "write" "op" "done" "recovered"
    op,        \* "none" "compact" "truncate"
    step,      \* index into StepsOf(op)
    sub,       \* floor step: 0 before the rename, 1 after
    snap,      \* compaction: the live projection this run copies
    todo,      \* compaction: live keys not yet copied
    victims,   \* segment ids this run removes
    T,         \* truncate_before's argument
    want,      \* reference, compaction: live projection at the first start
    tseg,      \* reference, truncation: seg at the first start
    tdir,      \* reference, truncation: dir at the first start
    hiDur,     \* ghost: highest txid that was ever durable (would have
               \*   survived a power cut: data and directory entry durable)
    mustNext,  \* ghost: lowest next txid the last recovery may pick
    okRet,     \* ghost: the operation returned Ok (and no rerun since)
    crashes,
    runs,
    rstate,    \* reader: "none" "reading" "ok" "error" "gone"
    rsnap,     \* reader: segment ids listed at open, ascending
    ri,        \* reader: index in rsnap of the next segment to read
    rproj,     \* reader, compaction: the projection of what it read so far
    racc       \* reader, truncation: the records it read so far

fsVars == <<seg, dur, dir, dirDur, pend, floor, floorDur, nseg>>
opVars == <<phase, op, step, sub, snap, todo, victims, T>>
refVars == <<want, tseg, tdir>>
ghostVars == <<nextTxid, mustNext, okRet, crashes, runs>>
readerVars == <<rstate, rsnap, ri, rproj, racc>>
vars == <<fsVars, opVars, refVars, ghostVars, readerVars, hiDur>>

Keys == 1..NKeys
Ids == 1..MaxSegs
NONE == 0
Empty == [k \in Keys |-> NONE]

Max(S) == CHOOSE x \in S : \A y \in S : x >= y
Min(S) == CHOOSE x \in S : \A y \in S : x <= y
Max2(a, b) == IF a >= b THEN a ELSE b

RECURSIVE Fold(_, _, _)
\* The projection p updated by l[1..n], last write wins.
Fold(p, l, n) ==
    IF n = 0 THEN p
    ELSE LET q == Fold(p, l, n - 1)
             r == l[n]
         IN IF r.t = "put" THEN [q EXCEPT ![r.k] = r.v] ELSE [q EXCEPT ![r.k] = NONE]

Live(l) == Fold(Empty, l, Len(l))

RECURSIVE LogUpTo(_, _, _)
\* The records of the segments in P \cap 1..n, in id order.
LogUpTo(P, s, n) ==
    IF n = 0 THEN <<>>
    ELSE LogUpTo(P, s, n - 1) \o (IF n \in P THEN s[n] ELSE <<>>)

LogOf(P, s) == LogUpTo(P, s, MaxSegs)

RECURSIVE Pick(_, _)
\* The elements of K \subseteq 1..n in ascending order.
Pick(K, n) == IF n = 0 THEN <<>>
              ELSE IF n \in K THEN Append(Pick(K, n - 1), n) ELSE Pick(K, n - 1)

MaxX(l) == IF l = <<>> THEN 0 ELSE Max({l[j].x : j \in DOMAIN l})

\* Highest txid that would survive a power cut now: in the durable prefix
\* d[i] of a segment i whose directory entry is durable (i \in D).
DurTop(s, d, D) == Max({0} \cup {s[i][j].x : i \in D, j \in 1..d[i]})

\* Highest txid in the segments P of s (0: none).
TopX(s, P) == Max({0} \cup {s[i][j].x : i \in P, j \in DOMAIN s[i]})

AllBelow(s, t) == \A j \in DOMAIN s : s[j].x < t

\* The steps of each operation, in the order the protocol takes them:
\* compact: a (rotate, in Start), b "copy", c "sync", d "floor", e "remove".
StepsOf(o) ==
    IF o = "truncate"
    THEN (IF NoFloor THEN <<"remove">> ELSE <<"floor", "remove">>)
    ELSE IF RemoveBeforeDurable
    THEN (IF NoFloor THEN <<"copy", "remove", "sync">> ELSE <<"copy", "floor", "remove", "sync">>)
    ELSE (IF NoFloor THEN <<"copy", "sync", "remove">> ELSE <<"copy", "sync", "floor", "remove">>)

Cur == IF phase = "op" /\ step <= Len(StepsOf(op)) THEN StepsOf(op)[step] ELSE "none"

---------------------------------------------------------------------------
(* Directory operations and crashes *)

RECURSIVE ApplyDir(_, _, _, _)
\* The directory after applying pend[j] for j \in S \cap 1..n, in order.
ApplyDir(d, p, S, n) ==
    IF n = 0 THEN d
    ELSE LET e == ApplyDir(d, p, S, n - 1)
         IN IF n \notin S \/ p[n].op = "floor" THEN e
            ELSE IF p[n].op = "create" THEN e \cup {p[n].id} ELSE e \ {p[n].id}

RECURSIVE ApplyFloor(_, _, _, _)
\* The floor file's value after applying the chosen renames.
ApplyFloor(f, p, S, n) ==
    IF n = 0 THEN f
    ELSE LET e == ApplyFloor(f, p, S, n - 1)
         IN IF n \in S /\ p[n].op = "floor" THEN p[n].id ELSE e

\* Which pending directory operations a power cut lets reach the disk.
PendChoices ==
    IF DirOrdered THEN {1..n : n \in 0..Len(pend)} ELSE SUBSET (1..Len(pend))

\* What a power cut can leave of the directory: <<segment ids, floor>>.
DirOutcomes ==
    { <<ApplyDir(dirDur, pend, S, Len(pend)), ApplyFloor(floorDur, pend, S, Len(pend))>> : S \in PendChoices }

\* fsync(dir), with d the segments' durable lengths after the step: every
\* directory operation so far is on disk, and so the records in the
\* durable prefix of every segment present.
DirSyncWith(d) ==
    /\ dirDur' = dir
    /\ floorDur' = floor
    /\ pend' = <<>>
    /\ hiDur' = Max2(hiDur, DurTop(seg, d, dir))

DirSync == DirSyncWith(dur)

\* Move to the next step; after the last one the operation returns Ok.
Advance ==
    /\ step' = step + 1
    /\ sub' = 0
    /\ phase' = IF step + 1 > Len(StepsOf(op)) THEN "done" ELSE "op"
    /\ okRet' = (step + 1 > Len(StepsOf(op)))

---------------------------------------------------------------------------
(* Writes before the operation (durable, see the header) *)

Init ==
    /\ seg = [i \in Ids |-> <<>>]
    /\ dur = [i \in Ids |-> 0]
    /\ dir = {1}
    /\ dirDur = {1}
    /\ pend = <<>>
    /\ floor = 0
    /\ floorDur = 0
    /\ nseg = 1
    /\ nextTxid = 1
    /\ phase = "write"
    /\ op = "none"
    /\ step = 0
    /\ sub = 0
    /\ snap = Empty
    /\ todo = {}
    /\ victims = {}
    /\ T = 0
    /\ want = Empty
    /\ tseg = [i \in Ids |-> <<>>]
    /\ tdir = {}
    /\ hiDur = 0
    /\ mustNext = 0
    /\ okRet = FALSE
    /\ crashes = 0
    /\ runs = 0
    /\ rstate = "none"
    /\ rsnap = <<>>
    /\ ri = 0
    /\ rproj = Empty
    /\ racc = <<>>

Write ==
    /\ phase = "write"
    /\ nextTxid <= MaxOps
    /\ \E k \in Keys, t \in {"put", "del"} :
          LET r == [t |-> t, k |-> k, v |-> IF t = "put" THEN nextTxid ELSE NONE, x |-> nextTxid]
          IN /\ seg' = [seg EXCEPT ![nseg] = Append(seg[nseg], r)]
             /\ dur' = [dur EXCEPT ![nseg] = Len(seg[nseg]) + 1]
    /\ nextTxid' = nextTxid + 1
    /\ hiDur' = nextTxid
    /\ UNCHANGED <<dir, dirDur, pend, floor, floorDur, nseg>>
    /\ UNCHANGED <<opVars, refVars, mustNext, okRet, crashes, runs, readerVars>>

Rotate ==
    /\ phase = "write"
    /\ nseg < MaxOld
    /\ seg[nseg] # <<>>
    /\ nseg' = nseg + 1
    /\ dir' = dir \cup {nseg + 1}
    /\ dirDur' = dir \cup {nseg + 1}
    /\ UNCHANGED <<seg, dur, pend, floor, floorDur, hiDur>>
    /\ UNCHANGED <<nextTxid, opVars, refVars, mustNext, okRet, crashes, runs, readerVars>>

---------------------------------------------------------------------------
(* DataWal::compact() *)

\* Step a: fsync the active segment, create the new segment B = nseg + 1
\* (its entry becomes durable with step c's directory fsync).  No
\* directory fsync here: a rerun after a kill may find directory
\* operations of the killed process still pending, and does not know it.
\* The first run starts from the written store; a rerun from what
\* recovery found.
StartCompact ==
    /\ "compact" \in Ops
    /\ \/ phase = "write"
       \/ phase = "recovered" /\ op = "compact"
    /\ runs < MaxRuns
    /\ nseg < MaxSegs
    /\ dir # {}
    /\ LET B == nseg + 1
           cur == Live(LogOf(dir, seg))
       IN /\ dir' = dir \cup {B}
          /\ pend' = Append(pend, [op |-> "create", id |-> B])
          /\ dur' = [dur EXCEPT ![nseg] = Len(seg[nseg])]
          /\ hiDur' = Max2(hiDur, DurTop(seg, dur', dirDur))
          /\ nseg' = B
          /\ snap' = cur
          /\ todo' = {k \in Keys : cur[k] # NONE}
          /\ victims' = dir
          /\ want' = IF phase = "write" THEN cur ELSE want
    /\ phase' = "op"
    /\ op' = "compact"
    /\ step' = 1
    /\ sub' = 0
    /\ runs' = runs + 1
    /\ okRet' = FALSE
    /\ mustNext' = 0
    /\ UNCHANGED <<seg, dirDur, floor, floorDur, T, tseg, tdir, nextTxid, crashes, readerVars>>

\* Step b: append one Put per live key (ascending key order) to B, with a
\* new txid and the live value.
Copy ==
    /\ Cur = "copy"
    /\ todo # {}
    /\ LET k == Min(todo)
       IN /\ seg' = [seg EXCEPT ![nseg] = Append(seg[nseg], [t |-> "put", k |-> k, v |-> snap[k], x |-> nextTxid])]
          /\ todo' = todo \ {k}
    /\ nextTxid' = nextTxid + 1
    /\ UNCHANGED <<dur, dir, dirDur, pend, floor, floorDur, nseg, hiDur>>
    /\ UNCHANGED <<phase, op, step, sub, snap, victims, T>>
    /\ UNCHANGED <<refVars, mustNext, okRet, crashes, runs, readerVars>>

CopyDone ==
    /\ Cur = "copy"
    /\ todo = {}
    /\ Advance
    /\ UNCHANGED <<fsVars, op, snap, todo, victims, T, hiDur>>
    /\ UNCHANGED <<refVars, nextTxid, mustNext, crashes, runs, readerVars>>

\* Step c: fdatasync B and fsync the directory.
SyncNew ==
    /\ Cur = "sync"
    /\ dur' = [dur EXCEPT ![nseg] = Len(seg[nseg])]
    /\ DirSyncWith([dur EXCEPT ![nseg] = Len(seg[nseg])])
    /\ Advance
    /\ UNCHANGED <<seg, dir, floor, nseg>>
    /\ UNCHANGED <<op, snap, todo, victims, T>>
    /\ UNCHANGED <<refVars, nextTxid, mustNext, crashes, runs, readerVars>>

---------------------------------------------------------------------------
(* RecordLog::truncate_before(t) *)

\* Victims: the oldest closed segments, as long as all their txids are < t
\* (never the active segment).
TruncVictims(t) ==
    { i \in dir : i < nseg /\ \A j \in dir : j <= i => AllBelow(seg[j], t) }

StartTruncate ==
    /\ "truncate" \in Ops
    /\ \/ phase = "write"
       \/ phase = "recovered" /\ op = "truncate"
    /\ runs < MaxRuns
    /\ dir # {}
    \* a rerun keeps the argument
    /\ \E t \in (IF phase = "write" THEN 2..nextTxid ELSE {T}) :
          /\ T' = t
          /\ victims' = TruncVictims(t)
    /\ tseg' = IF phase = "write" THEN seg ELSE tseg
    /\ tdir' = IF phase = "write" THEN dir ELSE tdir
    /\ phase' = "op"
    /\ op' = "truncate"
    /\ step' = 1
    /\ sub' = 0
    /\ runs' = runs + 1
    /\ okRet' = FALSE
    /\ mustNext' = 0
    /\ UNCHANGED <<fsVars, snap, todo, want, nextTxid, crashes, readerVars, hiDur>>

---------------------------------------------------------------------------
(* Steps shared by both operations *)

\* Step d, first half: write the floor (next txid) to a temp file, fsync
\* it, rename it over the floor file.  The rename is a directory operation.
FloorRename ==
    /\ Cur = "floor"
    /\ sub = 0
    /\ floor' = nextTxid
    /\ pend' = Append(pend, [op |-> "floor", id |-> nextTxid])
    /\ sub' = 1
    /\ UNCHANGED <<seg, dur, dir, dirDur, floorDur, nseg, hiDur>>
    /\ UNCHANGED <<phase, op, step, snap, todo, victims, T>>
    /\ UNCHANGED <<refVars, nextTxid, mustNext, okRet, crashes, runs, readerVars>>

\* Step d, second half: fsync the directory.
FloorSync ==
    /\ Cur = "floor"
    /\ sub = 1
    /\ DirSync
    /\ Advance
    /\ UNCHANGED <<seg, dur, dir, floor, nseg>>
    /\ UNCHANGED <<op, snap, todo, victims, T>>
    /\ UNCHANGED <<refVars, nextTxid, mustNext, crashes, runs, readerVars>>

UnlinkPending == \E j \in DOMAIN pend : pend[j].op = "unlink"

\* Step e: unlink one victim, oldest first (NewestFirst: the bug).  With
\* SyncEachUnlink, the directory is fsynced before the next unlink.
Unlink ==
    /\ Cur = "remove"
    /\ victims \cap dir # {}
    /\ SyncEachUnlink => ~UnlinkPending
    /\ LET id == IF NewestFirst THEN Max(victims \cap dir) ELSE Min(victims \cap dir)
       IN /\ dir' = dir \ {id}
          /\ pend' = Append(pend, [op |-> "unlink", id |-> id])
    /\ UNCHANGED <<seg, dur, dirDur, floor, floorDur, nseg, hiDur>>
    /\ UNCHANGED <<opVars, refVars, nextTxid, mustNext, okRet, crashes, runs, readerVars>>

\* The directory fsync after an unlink (SyncEachUnlink) or after the last.
UnlinkSync ==
    /\ Cur = "remove"
    /\ UnlinkPending
    /\ SyncEachUnlink \/ victims \cap dir = {}
    /\ DirSync
    /\ UNCHANGED <<seg, dur, dir, floor, nseg>>
    /\ UNCHANGED <<opVars, refVars, nextTxid, mustNext, okRet, crashes, runs, readerVars>>

RemoveDone ==
    /\ Cur = "remove"
    /\ victims \cap dir = {}
    /\ ~UnlinkPending
    /\ Advance
    /\ UNCHANGED <<fsVars, op, snap, todo, victims, T, hiDur>>
    /\ UNCHANGED <<refVars, nextTxid, mustNext, crashes, runs, readerVars>>

---------------------------------------------------------------------------
(* Crash and recovery (open): list the segments present, replay them in  *)
(* id order, next txid = max(floor, highest txid present + 1).            *)

\* A crash ends a reader still reading (it runs within one run of the
\* operation); a finished reader's result is dropped.
ReaderGone ==
    /\ rstate' = IF rstate = "none" THEN "none" ELSE "gone"
    /\ rsnap' = <<>>
    /\ ri' = 0
    /\ rproj' = Empty
    /\ racc' = <<>>

\* The crashed run's progress is gone with the process (fewer states).
Forget ==
    /\ step' = 0
    /\ sub' = 0
    /\ snap' = Empty
    /\ todo' = {}

\* Process kill: the page cache survives; nothing is lost or undone.
Kill ==
    /\ phase \in {"op", "done"}
    /\ crashes < MaxCrashes
    /\ phase' = "recovered"
    /\ nextTxid' = Max2(floor, TopX(seg, dir) + 1)
    /\ mustNext' = nextTxid
    /\ crashes' = crashes + 1
    /\ ReaderGone
    /\ Forget
    /\ UNCHANGED <<fsVars, op, victims, T, hiDur>>
    /\ UNCHANGED <<refVars, okRet, runs>>

\* Power cut: durable state plus whatever else reached the disk; the
\* reader dies with the machine.
PowerCut ==
    /\ phase \in {"op", "done", "recovered"}
    /\ crashes < MaxCrashes
    \* after a recovery, only if a kill left something undurable
    /\ phase = "recovered" => (pend # <<>> \/ (nseg \in Ids /\ dur[nseg] < Len(seg[nseg])))
    /\ \E d \in DirOutcomes, L \in dur[nseg]..Len(seg[nseg]) :
          /\ dir' = d[1]
          /\ floor' = d[2]
          /\ seg' = [i \in Ids |-> IF i \notin d[1] THEN <<>> ELSE IF i = nseg THEN SubSeq(seg[i], 1, L) ELSE seg[i]]
    /\ dirDur' = dir'
    /\ floorDur' = floor'
    /\ dur' = [i \in Ids |-> Len(seg'[i])]
    /\ nseg' = Max(dir' \cup {0})
    /\ nextTxid' = Max2(floor', TopX(seg', dir') + 1)
    /\ hiDur' = Max2(hiDur, TopX(seg', dir'))
    /\ pend' = <<>>
    /\ phase' = "recovered"
    /\ mustNext' = hiDur + 1
    /\ crashes' = crashes + 1
    /\ ReaderGone
    /\ Forget
    /\ UNCHANGED <<op, victims, T>>
    /\ UNCHANGED <<refVars, okRet, runs>>

---------------------------------------------------------------------------
(* The lock-free snapshot reader: lists the segments at open, then reads  *)
(* them one by one; a listed segment that is gone is a typed error.  It    *)
(* opens during the operation (concurrent writes are ReadWhileWrite's).    *)

ReaderOpen ==
    /\ Readers
    /\ rstate = "none"
    /\ phase \in {"op", "done"}
    /\ crashes = 0
    /\ rsnap' = Pick(dir, MaxSegs)
    /\ ri' = 1
    /\ rproj' = Empty
    /\ racc' = <<>>
    /\ rstate' = "reading"
    /\ UNCHANGED <<fsVars, opVars, refVars, ghostVars, hiDur>>

\* Read the next listed segment whole: an fd opened before an unlink still
\* reads the file, so only "gone before opened" matters; a segment being
\* appended to is read up to its current end.  A compaction reader keeps
\* the projection, a truncation reader the records.  An error, or the end,
\* drops the reader's position (fewer states).
ReaderRead ==
    /\ rstate = "reading"
    /\ LET id == rsnap[ri]
            gone == id \notin dir
            last == ri = Len(rsnap)
       IN /\ rstate' = IF gone THEN "error" ELSE IF last THEN "ok" ELSE "reading"
          /\ rproj' = IF gone \/ op # "compact" THEN Empty ELSE Fold(rproj, seg[id], Len(seg[id]))
          /\ racc' = IF gone \/ op # "truncate" THEN <<>> ELSE racc \o seg[id]
          /\ ri' = IF gone \/ last THEN 0 ELSE ri + 1
          /\ rsnap' = IF gone \/ last THEN <<>> ELSE rsnap
    /\ UNCHANGED <<fsVars, opVars, refVars, ghostVars, hiDur>>

Next ==
    \/ Write \/ Rotate
    \/ StartCompact \/ Copy \/ CopyDone \/ SyncNew
    \/ StartTruncate
    \/ FloorRename \/ FloorSync \/ Unlink \/ UnlinkSync \/ RemoveDone
    \/ Kill \/ PowerCut
    \/ ReaderOpen \/ ReaderRead

Spec == Init /\ [][Next]_vars

---------------------------------------------------------------------------
(* Invariants *)

TypeOK ==
    /\ phase \in {"write", "op", "done", "recovered"}
    /\ op \in {"none", "compact", "truncate"}
    /\ rstate \in {"none", "reading", "ok", "error", "gone"}
    /\ dir \subseteq Ids
    /\ \A i \in Ids : dur[i] <= Len(seg[i])
    \* only the active segment can have an undurable tail (PowerCut)
    /\ \A i \in Ids : i # nseg => dur[i] = Len(seg[i])
    /\ crashes <= MaxCrashes

\* When compact() returns, and after any crash during or after it and
\* recovery, the projection is the live projection before compaction:
\* no mix, no resurrected deleted key, no lost key.
CompactKeepsLiveSet ==
    (phase \in {"done", "recovered"} /\ op = "compact") => Live(LogOf(dir, seg)) = want

\* When truncate_before(T) returns, and after any crash during or after it
\* and recovery, the log is the log before minus whole segments from the
\* oldest end, each of them closed and holding only txids < T.
TruncateKeepsSuffix ==
    (phase \in {"done", "recovered"} /\ op = "truncate") =>
        /\ dir \subseteq tdir
        /\ \A i \in dir, j \in tdir : j > i => j \in dir
        /\ \A i \in dir : seg[i] = tseg[i]
        /\ \A i \in tdir \ dir : i < Max(tdir) /\ AllBelow(tseg[i], T)

\* Txids never go backwards: after a kill, the next txid is at least the
\* one before; after a power cut, above every txid that was ever durable.
TxidsNeverGoBack == phase = "recovered" => nextTxid >= mustNext

\* Ok means done for good: when the operation returns, and after any later
\* crash, every segment it set out to remove is gone.
OkIsDurable == (phase \in {"done", "recovered"} /\ okRet) => victims \cap dir = {}

\* A reader returns the before-state, the after-state, or an error: for
\* compaction both have the projection `want`; for truncation, the log
\* minus whole segments from the oldest end.
ReaderSound ==
    rstate = "ok" =>
        /\ op = "compact" => rproj = want
        /\ op = "truncate" => \E lo \in 1..(MaxSegs + 1) : racc = LogOf({i \in tdir : i >= lo}, tseg)

---------------------------------------------------------------------------
(* Witnesses: must be VIOLATED with the correct constants (reach-*.cfg).  *)

\* A crash mid-removal: recovery finds some old segments gone, others
\* still there, and a surviving one holds the tombstone of a key whose Put
\* was in a removed one (what removing newest-first would resurrect).
NeverCrashMidRemoval ==
    ~(/\ phase = "recovered" /\ op = "compact"
      /\ \E i \in victims \ dir, j \in victims \cap dir :
            \E a \in DOMAIN seg[i], b \in DOMAIN seg[j] :
                seg[i][a].t = "put" /\ seg[j][b].t = "del" /\ seg[i][a].k = seg[j][b].k)

\* A reader listed an old segment that compaction removed before the
\* reader got there, on a store with a live key and records to remove.
NeverReaderError ==
    ~(rstate = "error" /\ want # Empty /\ \E i \in victims : seg[i] # <<>>)

\* After truncation and recovery the floor file, not the records, set the
\* next txid (every record-bearing segment but the active one is gone).
NeverFloorCarriesTxid ==
    ~(phase = "recovered" /\ op = "truncate" /\ floor > MaxX(LogOf(dir, seg)) + 1)

=============================================================================
