------------------------------- MODULE Follow -------------------------------
(***************************************************************************)
(* A follower (datawal_core::Follower) tailing the last segment while a   *)
(* writer appends, is SIGKILLed, loses unsynced bytes (a power cut, or    *)
(* damage injected in a test) and restarts with torn-tail repair.         *)
(*                                                                         *)
(* A record reaches the file in Parts writes; a chunk is <<id, part>>, or *)
(* GARBAGE (zeros, or bytes that do not frame).  Record ids are never     *)
(* reused: a record written after a repair under a txid that was cut is   *)
(* another record (its bytes, and so its CRC, differ).                     *)
(*                                                                         *)
(* The follower reads the record at its position when it is complete     *)
(* (FRead), then, before yielding it, checks that the last record it      *)
(* yielded is still where it was (FYield: the stored CRC, here the last   *)
(* chunk); it also checks when it finds nothing to read (FCheck).  A      *)
(* failed check is Error::Cut.  Rotation is left out: ReadWhileWrite      *)
(* models reading across segments.                                         *)
(***************************************************************************)
EXTENDS Naturals, Sequences

CONSTANTS
    MaxRecords,
    Parts,         \* writes per record (>= 2 to expose partial records)
    MaxKills,      \* SIGKILLs of the writer (the file is kept as it is)
    MaxPowerCuts,  \* losses of unsynced bytes (cut, garbage) while the
                   \*   follower keeps running
    YieldEarly,    \* bug: the follower yields a record whose first part is there
    NoLastCheck    \* bug: the follower never checks its last record

GARBAGE == <<0, 0>>
NONE == <<0, 0>>

VARIABLES
    file,          \* the segment's chunks (page cache)
    nid,           \* id of the record being written, or the next one
    wpart,         \* parts of record nid written so far
    up,            \* the writer runs
    durable,       \* chunks made durable by fsync
    kills,
    powerCuts,
    firstAfterCut, \* first id written after a repair that cut bytes (0: none)
    fpos,          \* follower: the chunk where the next record starts
    pending,       \* follower: <<id, position>> read, not yet yielded, or NONE
    yielded,       \* follower: the ids yielded, in order
    lastPos,       \* follower: position of the last record yielded (0: none)
    cutReported,   \* follower: returned Error::Cut
    falseCut       \* history: a cut was reported while nothing yielded was cut

vars == <<file, nid, wpart, up, durable, kills, powerCuts, firstAfterCut,
          fpos, pending, yielded, lastPos, cutReported, falseCut>>
writerVars == <<file, nid, wpart, up, durable, kills, powerCuts, firstAfterCut>>
followerVars == <<fpos, pending, yielded, lastPos, cutReported, falseCut>>

Init ==
    /\ file = <<>>
    /\ nid = 1
    /\ wpart = 0
    /\ up = TRUE
    /\ durable = 0
    /\ kills = 0
    /\ powerCuts = 0
    /\ firstAfterCut = 0
    /\ fpos = 1
    /\ pending = NONE
    /\ yielded = <<>>
    /\ lastPos = 0
    /\ cutReported = FALSE
    /\ falseCut = FALSE

\* A whole record starts at position p of f.
CompleteAt(f, p) ==
    /\ p >= 1
    /\ p + Parts - 1 <= Len(f)
    /\ f[p] # GARBAGE
    /\ \A j \in 0..(Parts - 1) : f[p + j] = <<f[p][1], j + 1>>

\* The ids of the longest valid prefix from position p: what recovery keeps.
RECURSIVE Ids(_, _)
Ids(f, p) == IF CompleteAt(f, p) THEN <<f[p][1]>> \o Ids(f, p + Parts) ELSE <<>>

Log == Ids(file, 1)
ValidLen(f) == Parts * Len(Ids(f, 1))

IsPrefix(s, t) == Len(s) <= Len(t) /\ SubSeq(t, 1, Len(s)) = s

\* The follower's check: the last chunk (the stored CRC) of the last record
\* it yielded is still there.
LastIntact ==
    \/ lastPos = 0
    \/ /\ lastPos + Parts - 1 <= Len(file)
       /\ file[lastPos + Parts - 1] = <<yielded[Len(yielded)], Parts>>

---------------------------------------------------------------------------
(* The writer.                                                             *)

Write ==
    /\ up
    /\ nid <= MaxRecords
    /\ file' = Append(file, <<nid, wpart + 1>>)
    /\ IF wpart + 1 = Parts
       THEN nid' = nid + 1 /\ wpart' = 0
       ELSE nid' = nid /\ wpart' = wpart + 1
    /\ UNCHANGED <<up, durable, kills, powerCuts, firstAfterCut>>
    /\ UNCHANGED followerVars

Fsync ==
    /\ up
    /\ durable < Len(file)
    /\ durable' = Len(file)
    /\ UNCHANGED <<file, nid, wpart, up, kills, powerCuts, firstAfterCut>>
    /\ UNCHANGED followerVars

\* SIGKILL: the page cache, and so the file, stays as it is.
Kill ==
    /\ up
    /\ kills < MaxKills
    /\ up' = FALSE
    /\ kills' = kills + 1
    /\ UNCHANGED <<file, nid, wpart, durable, powerCuts, firstAfterCut>>
    /\ UNCHANGED followerVars

\* Unsynced bytes lost: the file keeps its durable prefix, then some of
\* the rest, of which a suffix reads back as garbage.
PowerCut ==
    /\ up
    /\ powerCuts < MaxPowerCuts
    /\ up' = FALSE
    /\ powerCuts' = powerCuts + 1
    /\ \E k \in durable..Len(file) :
         \E g \in (durable + 1)..(k + 1) :
           file' = [i \in 1..k |-> IF i >= g THEN GARBAGE ELSE file[i]]
    /\ UNCHANGED <<nid, wpart, durable, kills, firstAfterCut>>
    /\ UNCHANGED followerVars

\* Open: keep the longest valid prefix, cut (and sync) the rest; a record
\* that was being written is abandoned (its txid is written again, as
\* another record).
Recover ==
    /\ ~up
    /\ up' = TRUE
    /\ file' = SubSeq(file, 1, ValidLen(file))
    /\ durable' = ValidLen(file)
    /\ nid' = IF wpart > 0 THEN nid + 1 ELSE nid
    /\ wpart' = 0
    /\ firstAfterCut' = IF firstAfterCut = 0 /\ ValidLen(file) < Len(file)
                        THEN nid' ELSE firstAfterCut
    /\ UNCHANGED <<kills, powerCuts>>
    /\ UNCHANGED followerVars

---------------------------------------------------------------------------
(* The follower.                                                           *)

\* Read the record at the follower's position (the cursor's frame checks).
FRead ==
    /\ ~cutReported
    /\ pending = NONE
    /\ fpos <= Len(file)
    /\ IF YieldEarly
       THEN file[fpos] # GARBAGE /\ file[fpos][2] = 1
       ELSE CompleteAt(file, fpos)
    /\ pending' = <<file[fpos][1], fpos>>
    /\ UNCHANGED <<fpos, yielded, lastPos, cutReported, falseCut>>
    /\ UNCHANGED writerVars

ReportCut ==
    /\ cutReported' = TRUE
    /\ falseCut' = (falseCut \/ IsPrefix(yielded, Log))
    /\ pending' = NONE
    /\ UNCHANGED <<fpos, yielded, lastPos>>

\* After the read, check the last record yielded; then yield.
FYield ==
    /\ ~cutReported
    /\ pending # NONE
    /\ IF ~NoLastCheck /\ ~LastIntact
       THEN ReportCut
       ELSE /\ yielded' = Append(yielded, pending[1])
            /\ lastPos' = pending[2]
            /\ fpos' = pending[2] + Parts
            /\ pending' = NONE
            /\ UNCHANGED <<cutReported, falseCut>>
    /\ UNCHANGED writerVars

\* Nothing to read: check the last record yielded.
FCheck ==
    /\ ~cutReported
    /\ pending = NONE
    /\ ~NoLastCheck
    /\ ~LastIntact
    /\ ReportCut
    /\ UNCHANGED writerVars

Next == Write \/ Fsync \/ Kill \/ PowerCut \/ Recover \/ FRead \/ FYield \/ FCheck

Spec == Init /\ [][Next]_vars

---------------------------------------------------------------------------

TypeOK ==
    /\ nid \in 1..(MaxRecords + 1)
    /\ wpart \in 0..(Parts - 1)
    /\ durable <= Len(file)
    /\ fpos >= 1

\* Every record once, in order.
YieldedInOrder == \A i \in 1..(Len(yielded) - 1) : yielded[i] < yielded[i + 1]

\* Killed and restarted writers only (no bytes lost): everything the
\* follower yielded is in the log as any later open recovers it.
YieldedInRecoveredLog == powerCuts = 0 => IsPrefix(yielded, Log)

\* Bytes lost under the follower: what it yielded is still the start of
\* the log, or it has said so (Error::Cut), or its next check will (its
\* last record is gone).
CutNeverSilent == cutReported \/ ~LastIntact \/ IsPrefix(yielded, Log)

\* Error::Cut only when a record yielded really is gone.
CutIsReal == ~falseCut

---------------------------------------------------------------------------
(* Witnesses: must be VIOLATED with the correct constants (reach-*.cfg).  *)

\* The follower reports a cut.
NeverCutReported == ~cutReported

\* The follower yields a record written after a repair that cut a torn
\* tail, with no cut reported: it passed the repair seamlessly.
NeverFollowAcrossRepair ==
    ~(/\ firstAfterCut > 0
      /\ ~cutReported
      /\ \E i \in 1..Len(yielded) : yielded[i] >= firstAfterCut)
=============================================================================
