--------------------------- MODULE Compaction ---------------------------
(***************************************************************************)
(* datawal-core DataWal::compact_to(out_dir).                              *)
(*                                                                         *)
(* The store's log is written (puts and deletes), then compact_to copies  *)
(* the live projection, one Put per live key in ascending key order, into *)
(* a temporary directory, fsyncs it, renames it to out_dir and fsyncs     *)
(* out_dir's parent so that Ok means the output survives a crash.          *)
(* out_dir must be absent (or empty) at the start.  A crash may strike at *)
(* any step; afterwards somebody opens out_dir ("uses" the output).       *)
(* The store cannot be written while compact_to runs (&self vs &mut self). *)
(*                                                                         *)
(* Keys are 1..NKeys; a value is the position of the Put that wrote it.   *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    NKeys,
    MaxOps,
    ForgetTombstone,   \* bug: compaction folds Puts only (a delete is lost)
    WriteInPlace,      \* bug: records go straight into out_dir, no temp+rename
    RenameBeforeFsync, \* bug: rename the temp dir before fsyncing its files
    SyncParentDir      \* TRUE: fsync out_dir's parent after the rename, before Ok

VARIABLES
    src,      \* the store's log: Seq of [t |-> "put"/"del", k, v]
    phase,    \* "idle" "copying" "synced" "renamed" "done" "crashed"
    want,     \* reference: the live projection of src when compaction began
    snap,     \* what the compaction code computed as the live projection
    todo,     \* live keys not yet copied
    tmp,      \* records in the output being built (OS view)
    tmpDur,   \* length of tmp's durable prefix
    out,      \* out_dir: ABSENT or its records (OS view)
    outDur,   \* length of out's durable prefix
    linkDur,  \* out_dir's directory entry is durable
    okRet     \* compact_to returned Ok

vars == <<src, phase, want, snap, todo, tmp, tmpDur, out, outDur, linkDur, okRet>>

Keys == 1..NKeys
ABSENT == <<"absent">>
NONE == 0
Empty == [k \in Keys |-> NONE]

RECURSIVE Proj(_, _, _)
\* Last-write-wins projection of l[1..n]; skipDel drops tombstones (the bug).
Proj(l, n, skipDel) ==
    IF n = 0 THEN Empty
    ELSE LET p == Proj(l, n - 1, skipDel)
             r == l[n]
         IN IF r.t = "put" THEN [p EXCEPT ![r.k] = r.v]
            ELSE IF skipDel THEN p ELSE [p EXCEPT ![r.k] = NONE]

Live(l) == Proj(l, Len(l), FALSE)

Min(S) == CHOOSE x \in S : \A y \in S : x <= y

Init ==
    /\ src = <<>>
    /\ phase = "idle"
    /\ want = Empty
    /\ snap = Empty
    /\ todo = {}
    /\ tmp = <<>>
    /\ tmpDur = 0
    /\ out = ABSENT
    /\ outDur = 0
    /\ linkDur = FALSE
    /\ okRet = FALSE

Write ==
    /\ phase = "idle"
    /\ Len(src) < MaxOps
    /\ \E k \in Keys, t \in {"put", "del"} :
          src' = Append(src, [t |-> t, k |-> k,
                              v |-> IF t = "put" THEN Len(src) + 1 ELSE NONE])
    /\ UNCHANGED <<phase, want, snap, todo, tmp, tmpDur, out, outDur, linkDur, okRet>>

Start ==
    /\ phase = "idle"
    /\ out = ABSENT
    /\ want' = Live(src)
    /\ snap' = Proj(src, Len(src), ForgetTombstone)
    /\ todo' = {k \in Keys : snap'[k] # NONE}
    /\ tmp' = <<>>
    /\ tmpDur' = 0
    /\ phase' = "copying"
    \* in place: out_dir itself is created now and filled as we go
    /\ out' = IF WriteInPlace THEN <<>> ELSE out
    /\ UNCHANGED <<src, outDur, linkDur, okRet>>

Copy ==
    /\ phase = "copying"
    /\ todo # {}
    /\ LET k == Min(todo)
           t2 == Append(tmp, [t |-> "put", k |-> k, v |-> snap[k]])
       IN /\ tmp' = t2
          /\ todo' = todo \ {k}
          /\ out' = IF WriteInPlace THEN t2 ELSE out
    /\ UNCHANGED <<src, phase, want, snap, tmpDur, outDur, linkDur, okRet>>

\* fsync the output's files (and its own directory).
SyncFiles ==
    /\ todo = {}
    /\ \/ phase = "copying" /\ ~RenameBeforeFsync /\ phase' = "synced"
       \/ phase = "renamed" /\ RenameBeforeFsync /\ phase' = "synced"
    /\ tmpDur' = Len(tmp)
    /\ outDur' = IF out # ABSENT THEN Len(out) ELSE outDur
    /\ UNCHANGED <<src, want, snap, todo, tmp, out, linkDur, okRet>>

\* rename(tmp, out_dir): atomic; durable once the parent is fsynced.
Rename ==
    /\ todo = {}
    /\ ~WriteInPlace
    /\ \/ phase = "synced" /\ ~RenameBeforeFsync /\ phase' = "renamed"
       \/ phase = "copying" /\ RenameBeforeFsync /\ phase' = "renamed"
    /\ out' = tmp
    /\ outDur' = tmpDur
    /\ UNCHANGED <<src, want, snap, todo, tmp, tmpDur, linkDur, okRet>>

\* fsync out_dir's parent (when SyncParentDir), then return Ok.
Finish ==
    /\ \/ phase = "synced" /\ (WriteInPlace \/ RenameBeforeFsync)
       \/ phase = "renamed" /\ ~RenameBeforeFsync
    /\ linkDur' = SyncParentDir
    /\ phase' = "done"
    /\ okRet' = TRUE
    /\ UNCHANGED <<src, want, snap, todo, tmp, tmpDur, out, outDur>>

\* Power cut during or after compact_to: out_dir keeps its durable records
\* and any prefix of the rest; an undurable directory entry may vanish.
Crash ==
    /\ phase \in {"copying", "synced", "renamed", "done"}
    /\ \/ /\ out # ABSENT
          /\ \E n \in outDur..Len(out) : out' = SubSeq(out, 1, n)
       \/ /\ out = ABSENT \/ ~linkDur
          /\ out' = ABSENT
    /\ phase' = "crashed"
    /\ UNCHANGED <<src, want, snap, todo, tmp, tmpDur, outDur, linkDur, okRet>>

Next == Write \/ Start \/ Copy \/ SyncFiles \/ Rename \/ Finish \/ Crash

Spec == Init /\ [][Next]_vars

---------------------------------------------------------------------------

TypeOK ==
    /\ phase \in {"idle", "copying", "synced", "renamed", "done", "crashed"}
    /\ todo \subseteq Keys
    /\ tmpDur <= Len(tmp)

\* Whenever the output can be used (compact_to returned, or crashed and
\* somebody opens out_dir), it is absent or holds exactly the live
\* projection of the store: no deleted key resurrected, none missing.
UsedOutputIsLiveProjection ==
    (phase \in {"done", "crashed"} /\ out # ABSENT) => Live(out) = want

\* Ok from compact_to means the complete output survives any later crash.
OkMeansDurable ==
    (okRet /\ phase \in {"done", "crashed"}) => (out # ABSENT /\ Live(out) = want)

\* The output holds one Put per live key, in ascending key order.
OutputIsSortedPuts ==
    (phase = "done" /\ out # ABSENT) =>
        /\ \A i \in 1..Len(out) : out[i].t = "put"
        /\ \A i \in 1..(Len(out) - 1) : out[i].k < out[i + 1].k

---------------------------------------------------------------------------
(* Witnesses: must be VIOLATED with the correct constants (reach-*.cfg).  *)

\* compact_to returned Ok on a store where a key was put then deleted and
\* another key is live.
NeverCompactedOverTombstone ==
    ~(phase = "done" /\ Len(out) > 0 /\
      \E i, j \in 1..Len(src) : i < j /\ src[i].t = "put" /\ src[j].t = "del" /\ src[i].k = src[j].k)

\* A crash struck after some but not all live keys were copied.
NeverCrashMidCopy ==
    ~(phase = "crashed" /\ Len(tmp) > 0 /\ todo # {})

=============================================================================
