------------------------ MODULE KeydirProjection ------------------------
(***************************************************************************)
(* datawal-core DataWal: the keydir (key -> position of the latest Put)   *)
(* is maintained on every put/delete and rebuilt on open by folding the   *)
(* log in order.  It must always be the last-write-wins projection of the *)
(* log, tombstones included.                                               *)
(*                                                                         *)
(* The reference is independent of the keydir: `refs[i+1]` is the map a   *)
(* plain dictionary would hold after the first i operations.  A crash      *)
(* cuts the log to any prefix that keeps every fsynced record (what        *)
(* RecordLog proves about recovery) and the reopen rebuilds the keydir.    *)
(* A value is modelled by the position of the Put that wrote it, so two    *)
(* puts of the same key always carry different values.                    *)
(***************************************************************************)
EXTENDS Naturals, Sequences

CONSTANTS
    Keys,              \* a small set of model values
    MaxOps,            \* puts + deletes over the whole run
    MaxCrashes,
    RebuildSkipsTombstones, \* bug: the open-time fold ignores Delete records
    RebuildFirstWins        \* bug: the open-time fold keeps the first Put

VARIABLES
    log,      \* Seq of [t |-> "put"/"del", k |-> key, v |-> value or 0]
    dur,      \* length of the fsynced prefix of log
    keydir,   \* [Keys -> 0..MaxOps]: position of the latest Put, 0 = absent
    refs,     \* refs[i+1]: reference map after i operations (0 = absent)
    crashes,
    rebuilt   \* ghost: keydir was just rebuilt by an open after a crash

vars == <<log, dur, keydir, refs, crashes, rebuilt>>

NONE == 0
Empty == [k \in Keys |-> 0]

RECURSIVE Fold(_, _)
\* The keydir an open builds from log[1..n].
Fold(l, n) ==
    IF n = 0 THEN Empty
    ELSE LET kd == Fold(l, n - 1)
             r  == l[n]
         IN IF r.t = "put"
            THEN IF RebuildFirstWins /\ kd[r.k] # 0 THEN kd
                 ELSE [kd EXCEPT ![r.k] = n]
            ELSE IF RebuildSkipsTombstones THEN kd
                 ELSE [kd EXCEPT ![r.k] = 0]

Ref == refs[Len(log) + 1]

Init ==
    /\ log = <<>>
    /\ dur = 0
    /\ keydir = Empty
    /\ refs = <<Empty>>
    /\ crashes = 0
    /\ rebuilt = FALSE

Put(k) ==
    /\ Len(log) < MaxOps
    /\ LET pos == Len(log) + 1
       IN /\ log' = Append(log, [t |-> "put", k |-> k, v |-> pos])
          /\ keydir' = [keydir EXCEPT ![k] = pos]
          /\ refs' = Append(refs, [Ref EXCEPT ![k] = pos])
    /\ rebuilt' = FALSE
    /\ UNCHANGED <<dur, crashes>>

\* delete() writes a tombstone whether or not the key is present.
Delete(k) ==
    /\ Len(log) < MaxOps
    /\ log' = Append(log, [t |-> "del", k |-> k, v |-> NONE])
    /\ keydir' = [keydir EXCEPT ![k] = 0]
    /\ refs' = Append(refs, [Ref EXCEPT ![k] = NONE])
    /\ rebuilt' = FALSE
    /\ UNCHANGED <<dur, crashes>>

Fsync ==
    /\ dur' = Len(log)
    /\ UNCHANGED <<log, keydir, refs, crashes, rebuilt>>

\* Clean close and reopen: the keydir is rebuilt from the whole log.
Reopen ==
    /\ keydir' = Fold(log, Len(log))
    /\ UNCHANGED <<log, dur, refs, crashes, rebuilt>>

\* Crash and reopen: recovery keeps a prefix that contains every fsynced record.
CrashReopen ==
    /\ crashes < MaxCrashes
    /\ \E n \in dur..Len(log) :
          /\ log' = SubSeq(log, 1, n)
          /\ dur' = n
          /\ keydir' = Fold(log', n)
          /\ refs' = SubSeq(refs, 1, n + 1)
    /\ crashes' = crashes + 1
    /\ rebuilt' = TRUE

Next ==
    \/ \E k \in Keys : Put(k) \/ Delete(k)
    \/ Fsync
    \/ Reopen
    \/ CrashReopen

Spec == Init /\ [][Next]_vars

---------------------------------------------------------------------------

TypeOK ==
    /\ keydir \in [Keys -> 0..MaxOps]
    /\ Len(refs) = Len(log) + 1
    /\ dur \in 0..Len(log)

Get(k) == IF keydir[k] = 0 THEN NONE ELSE log[keydir[k]].v

\* get() answers what a plain map would: last write wins, a delete hides
\* every earlier put, a later put brings the key back.
GetMatchesReference == \A k \in Keys : Get(k) = Ref[k]

\* Every keydir entry points at a Put record of that very key.
KeydirPointsAtPut ==
    \A k \in Keys : keydir[k] # 0 =>
        /\ keydir[k] <= Len(log)
        /\ log[keydir[k]].t = "put"
        /\ log[keydir[k]].k = k

\* ... and at the latest record of that key.
KeydirIsLatest ==
    \A k \in Keys : keydir[k] # 0 =>
        \A j \in (keydir[k] + 1)..Len(log) : log[j].k # k

---------------------------------------------------------------------------
(* Witness: must be VIOLATED with the correct constants (reach-*.cfg).    *)

\* After a crash, the rebuilt keydir hides a key whose Put was followed by
\* a tombstone, and holds a key that was put again after being deleted.
NeverTombstonesAcrossCrash ==
    ~(rebuilt /\
      \E k1, k2 \in Keys :
         /\ keydir[k1] = 0
         /\ \E i, j \in 1..Len(log) :
               i < j /\ log[i] = [t |-> "put", k |-> k1, v |-> i]
                     /\ log[j].t = "del" /\ log[j].k = k1
         /\ keydir[k2] # 0
         /\ \E j \in 1..Len(log) : j < keydir[k2] /\ log[j].t = "del" /\ log[j].k = k2)

=============================================================================
