-------------------------- MODULE ReadWhileWrite --------------------------
(***************************************************************************)
(* A snapshot reader (RecordLogReader, scan of another handle) reading    *)
(* while the single writer appends and rotates.                           *)
(*                                                                         *)
(* A record reaches the page cache in Parts writes (e.g. header, then key, *)
(* payload and CRC), so a reader can see a prefix of a record.  The reader *)
(* lists the segments when it opens (its snapshot) and reads each of them *)
(* up to whatever end the file has when it gets there.  An incomplete      *)
(* record at the end of the last snapshotted segment is end-of-data; an   *)
(* incomplete record in an earlier segment is corruption (hard error).    *)
(* A segment file holds chunks <<id, part>>.                              *)
(***************************************************************************)
EXTENDS Naturals, Sequences

CONSTANTS
    MaxRecords,
    MaxSegs,
    Parts,          \* writes per record (>= 2 to expose partial records)
    PartialAsData,  \* bug: the reader returns a partially written record
    EarlyVisible    \* bug: the writer creates the next segment before the
                    \*   record in progress in the current one is complete

VARIABLES
    segs,      \* Seq of segments, each a Seq of <<id, part>> (page cache)
    nid,       \* next record id to start
    wid,       \* record being written (0: none)
    wpart,     \* parts of wid written so far
    wseg,      \* segment that wid is being written into
    ncomplete, \* records completely written
    rstate,    \* reader: "idle" "reading" "done" "error"
    snap,      \* reader: number of segments listed at open
    atOpen,    \* reader: records complete when it opened
    rseg,      \* reader: segment being read
    rpos,      \* reader: position of the next record in it
    out        \* reader: Seq of [id, full] returned as records

vars == <<segs, nid, wid, wpart, wseg, ncomplete, rstate, snap, atOpen, rseg, rpos, out>>
writerVars == <<segs, nid, wid, wpart, wseg, ncomplete>>
readerVars == <<rstate, snap, atOpen, rseg, rpos, out>>

Init ==
    /\ segs = << <<>> >>
    /\ nid = 1
    /\ wid = 0
    /\ wpart = 0
    /\ wseg = 1
    /\ ncomplete = 0
    /\ rstate = "idle"
    /\ snap = 0
    /\ atOpen = 0
    /\ rseg = 0
    /\ rpos = 0
    /\ out = <<>>

\* One write() of the writer: the first part of a new record (into the
\* active segment) or the next part of the record in progress.
WriteChunk ==
    /\ IF wid = 0
       THEN /\ nid <= MaxRecords
            /\ segs' = [segs EXCEPT ![Len(segs)] = Append(segs[Len(segs)], <<nid, 1>>)]
            /\ nid' = nid + 1
            /\ wseg' = Len(segs)
            /\ IF Parts = 1
               THEN wid' = 0 /\ wpart' = 0 /\ ncomplete' = ncomplete + 1
               ELSE wid' = nid /\ wpart' = 1 /\ UNCHANGED ncomplete
       ELSE /\ segs' = [segs EXCEPT ![wseg] = Append(segs[wseg], <<wid, wpart + 1>>)]
            /\ UNCHANGED <<nid, wseg>>
            /\ IF wpart + 1 = Parts
               THEN wid' = 0 /\ wpart' = 0 /\ ncomplete' = ncomplete + 1
               ELSE wpart' = wpart + 1 /\ UNCHANGED <<wid, ncomplete>>
    /\ UNCHANGED readerVars

\* rotate(): the next segment file appears in the directory.
Rotate ==
    /\ Len(segs) < MaxSegs
    /\ (wid = 0 \/ EarlyVisible)
    /\ segs' = Append(segs, <<>>)
    /\ UNCHANGED <<nid, wid, wpart, wseg, ncomplete>>
    /\ UNCHANGED readerVars

ROpen ==
    /\ rstate = "idle"
    /\ rstate' = "reading"
    /\ snap' = Len(segs)
    /\ atOpen' = ncomplete
    /\ rseg' = 1
    /\ rpos' = 1
    /\ UNCHANGED out
    /\ UNCHANGED writerVars

\* The record starting at position p of segment s is completely there.
Complete(s, p) ==
    /\ p + Parts - 1 <= Len(s)
    /\ \A j \in 0..(Parts - 1) : s[p + j] = <<s[p][1], j + 1>>

\* The reader's next step, as a function of the segment s it is in.
ReadOne(s) ==
    IF rpos > Len(s)
    THEN IF rseg < snap
         THEN /\ rseg' = rseg + 1
              /\ rpos' = 1
              /\ UNCHANGED <<rstate, out>>
         ELSE /\ rstate' = "done"
              /\ UNCHANGED <<rseg, rpos, out>>
    ELSE IF Complete(s, rpos)
    THEN /\ out' = Append(out, [id |-> s[rpos][1], full |-> TRUE])
         /\ rpos' = rpos + Parts
         /\ UNCHANGED <<rstate, rseg>>
    ELSE IF rseg = snap
    THEN \* incomplete record at the end of the last snapshotted segment
         /\ rstate' = "done"
         /\ out' = (IF PartialAsData
                    THEN Append(out, [id |-> s[rpos][1], full |-> FALSE])
                    ELSE out)
         /\ UNCHANGED <<rseg, rpos>>
    ELSE \* incomplete record in a closed segment: corruption
         /\ rstate' = "error"
         /\ UNCHANGED <<rseg, rpos, out>>

RStep ==
    /\ rstate = "reading"
    /\ ReadOne(segs[rseg])
    /\ UNCHANGED <<snap, atOpen>>
    /\ UNCHANGED writerVars

Next == WriteChunk \/ Rotate \/ ROpen \/ RStep

Spec == Init /\ [][Next]_vars

---------------------------------------------------------------------------

TypeOK ==
    /\ rstate \in {"idle", "reading", "done", "error"}
    /\ ncomplete <= nid - 1
    /\ Len(segs) <= MaxSegs

\* The reader only ever returns complete records, in append order, with
\* no hole: a prefix of the log.
ReaderSeesPrefix ==
    \A i \in 1..Len(out) : out[i].full /\ out[i].id = i

\* Concurrent appends and rotations never make the reader fail.
NoSpuriousError == rstate # "error"

\* A finished reader returned at least every record complete when it opened.
ReaderSeesSnapshot == rstate = "done" => Len(out) >= atOpen

---------------------------------------------------------------------------
(* Witness: must be VIOLATED with the correct constants (reach-*.cfg).    *)

\* A reader that listed two or more segments returned records and then
\* stopped at a record still being written.
NeverStopAtPartial ==
    ~(/\ rstate = "done"
      /\ snap >= 2
      /\ Len(out) > 0
      /\ rpos <= Len(segs[rseg]))

=============================================================================
