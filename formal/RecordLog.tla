---------------------------- MODULE RecordLog ----------------------------
(***************************************************************************)
(* datawal-core RecordLog: append / fsync / rotate / crash / recover.     *)
(*                                                                         *)
(* A record is abstracted to a unique id (1, 2, ...; ids are never reused, *)
(* unlike txids, so a lost record can be told apart from a later one).     *)
(* A segment file is a sequence of records; TORN (0) stands for any bytes  *)
(* that do not frame a valid record: a partial record, a zero-filled page, *)
(* a CRC mismatch.                                                         *)
(*                                                                         *)
(* Page cache vs disk: `files` is what the OS shows (writes land there at  *)
(* once); dur[i] is how much of segment i is guaranteed on disk, dsync the *)
(* segments whose directory entry is guaranteed on disk.  A crash keeps    *)
(* the durable part plus, for each later record slot up to an arbitrary    *)
(* cut, either the record or garbage (out-of-order write-back included).   *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    MaxAppends,     \* records appended over the whole run (ids 1..MaxAppends)
    MaxCrashes,     \* power cuts over the whole run
    MaxSegs,        \* segment files the writer may create
    RepairTornTail, \* TRUE: open truncates the last segment to its valid
                    \*   prefix (torn bytes go to a side file) before any
                    \*   append.  FALSE: the published predecessor's bug,
                    \*   torn bytes stay and new records go after them.
    RotateFsyncs,   \* TRUE: rotate fsyncs the segment it closes
    RotateSyncsDir, \* TRUE: rotate also fsyncs the directory (hardening;
                    \*   the described design defers it to the next fsync)
    DirOrdered      \* file-system assumption: directory entries reach disk
                    \*   in creation order (FALSE: only what POSIX promises)

VARIABLES
    files,      \* Seq of segments, each a Seq of record ids / TORN (OS view)
    dur,        \* dur[i]: length of the durable prefix of files[i]
    dsync,      \* set of segment indexes whose directory entry is durable
    mem,        \* the writer's log: what scan() returns while it is open
    nid,        \* next record id
    acked,      \* ids covered by an fsync() that returned Ok
    up,         \* writer open (TRUE) or crashed, not yet reopened (FALSE)
    crashes,    \* crashes so far
    hardError,  \* the last open failed with a hard error (closed segment bad)
    preCrash,   \* the writer's log at the last crash
    recovered,  \* the log the last open recovered
    tornNid     \* ghost: nid at the first open that cut a torn tail (0: none)

vars == <<files, dur, dsync, mem, nid, acked, up, crashes, hardError,
          preCrash, recovered, tornNid>>

TORN == 0
Last == Len(files)

Range(s) == {s[i] : i \in DOMAIN s}
IsPrefix(p, s) == Len(p) <= Len(s) /\ SubSeq(s, 1, Len(p)) = p

\* Length of the longest valid prefix of a segment.
ValidLen(c) ==
    IF \E i \in 1..Len(c) : c[i] = TORN
    THEN (CHOOSE i \in 1..Len(c) : c[i] = TORN /\ \A j \in 1..(i-1) : c[j] # TORN) - 1
    ELSE Len(c)

RECURSIVE Concat(_, _)
\* Concatenation of segs[1..n].
Concat(segs, n) == IF n = 0 THEN <<>> ELSE Concat(segs, n - 1) \o segs[n]

RECURSIVE Pick(_, _)
\* The elements of K \subseteq 1..n in ascending order.
Pick(K, n) == IF n = 0 THEN <<>>
              ELSE IF n \in K THEN Append(Pick(K, n - 1), n) ELSE Pick(K, n - 1)

\* What a crash can leave of segment i: the durable prefix, then up to an
\* arbitrary cut, each slot either written back intact or garbage.
Survivors(i) ==
    UNION { { [j \in 1..L |-> IF j <= dur[i] THEN files[i][j]
                              ELSE IF m[j] THEN files[i][j] ELSE TORN]
              : m \in [1..L -> BOOLEAN] }
            : L \in dur[i]..Len(files[i]) }

RECURSIVE Outcomes(_)
\* Every combination of survivors for segments 1..n.
Outcomes(n) == IF n = 0 THEN {<<>>}
               ELSE { Append(p, c) : p \in Outcomes(n - 1), c \in Survivors(n) }

\* Which segment files survive a crash: every durable directory entry, and
\* some of the others (in creation order if DirOrdered).
KeptSets ==
    { K \in SUBSET (1..Last) :
        /\ dsync \subseteq K
        /\ K # {}
        /\ DirOrdered => \E k \in 1..Last : K = 1..k }

---------------------------------------------------------------------------

Init ==
    /\ files = << <<>> >>
    /\ dur = <<0>>
    /\ dsync = {1}
    /\ mem = <<>>
    /\ nid = 1
    /\ acked = {}
    /\ up = TRUE
    /\ crashes = 0
    /\ hardError = FALSE
    /\ preCrash = <<>>
    /\ recovered = <<>>
    /\ tornNid = 0

\* append(): the record reaches the page cache of the active segment.
DoAppend ==
    /\ up
    /\ nid <= MaxAppends
    /\ files' = [files EXCEPT ![Last] = Append(files[Last], nid)]
    /\ mem' = Append(mem, nid)
    /\ nid' = nid + 1
    /\ UNCHANGED <<dur, dsync, acked, up, crashes, hardError, preCrash, recovered, tornNid>>

\* fsync(): the active segment and the directory reach the disk; every
\* record the writer has appended is now promised durable.
Fsync ==
    /\ up
    /\ dur' = [dur EXCEPT ![Last] = Len(files[Last])]
    /\ dsync' = 1..Last
    /\ acked' = acked \cup Range(mem)
    /\ UNCHANGED <<files, mem, nid, up, crashes, hardError, preCrash, recovered, tornNid>>

\* rotate(): fsync the current segment, create the next one (its directory
\* entry is durable only at the next fsync unless RotateSyncsDir).
Rotate ==
    /\ up
    /\ Last < MaxSegs
    /\ LET d == IF RotateFsyncs THEN [dur EXCEPT ![Last] = Len(files[Last])] ELSE dur
       IN dur' = Append(d, 0)
    /\ dsync' = IF RotateSyncsDir THEN 1..Last ELSE dsync
    /\ files' = Append(files, <<>>)
    /\ UNCHANGED <<mem, nid, acked, up, crashes, hardError, preCrash, recovered, tornNid>>

\* Power cut: what survives is now on disk; the process is gone.
Crash ==
    /\ up
    /\ crashes < MaxCrashes
    /\ \E K \in KeptSets, o \in Outcomes(Last) :
          LET idx == Pick(K, Last)
              nf  == [j \in 1..Len(idx) |-> o[idx[j]]]
          IN /\ files' = nf
             /\ dur' = [j \in 1..Len(nf) |-> Len(nf[j])]
             /\ dsync' = 1..Len(nf)
    /\ up' = FALSE
    /\ crashes' = crashes + 1
    /\ preCrash' = mem
    /\ UNCHANGED <<mem, nid, acked, hardError, recovered, tornNid>>

\* open(): scan every segment in order.  Garbage in a closed segment is a
\* hard error; in the last segment it ends the log (longest valid prefix).
Recover ==
    /\ ~up
    /\ ~hardError
    /\ LET n == Len(files)
           v == ValidLen(files[n])
       IN IF \E i \in 1..(n-1) : ValidLen(files[i]) < Len(files[i])
          THEN /\ hardError' = TRUE
               /\ UNCHANGED <<files, dur, dsync, mem, nid, acked, up, crashes,
                              preCrash, recovered, tornNid>>
          ELSE LET recs == Concat(files, n - 1) \o SubSeq(files[n], 1, v)
                   nf   == IF RepairTornTail
                           THEN [files EXCEPT ![n] = SubSeq(files[n], 1, v)]
                           ELSE files
               IN /\ files' = nf
                  /\ dur' = [j \in 1..n |-> Len(nf[j])]
                  /\ mem' = recs
                  /\ recovered' = recs
                  /\ up' = TRUE
                  /\ tornNid' = IF tornNid = 0 /\ v < Len(files[n]) THEN nid ELSE tornNid
                  /\ UNCHANGED <<dsync, nid, acked, crashes, hardError, preCrash>>

Next == DoAppend \/ Fsync \/ Rotate \/ Crash \/ Recover

Spec == Init /\ [][Next]_vars

---------------------------------------------------------------------------
(* Invariants *)

TypeOK ==
    /\ Len(dur) = Len(files)
    /\ \A i \in 1..Len(files) : dur[i] <= Len(files[i])
    /\ dsync \subseteq 1..Len(files)
    /\ nid \in 1..(MaxAppends + 1)
    /\ crashes \in 0..MaxCrashes

\* Recovery never loses a record whose fsync returned, including records
\* appended and fsynced after an earlier torn-tail recovery.
NoAckedLoss == up => acked \subseteq Range(mem)

\* The durable records are a prefix of the log (and, as acked only grows
\* and is never lost, a prefix that only grows).
DurablePrefix ==
    up => \E k \in 0..Len(mem) : Range(SubSeq(mem, 1, k)) = acked

\* What an open recovers is a prefix of what the writer had appended:
\* no hole, no reordering, no garbage read as a record.
RecoveredIsPrefix == up => IsPrefix(recovered, preCrash)

\* A crash never makes the store unopenable (bad bytes in a closed segment).
NoHardError == ~hardError

---------------------------------------------------------------------------
(* Witnesses: must be VIOLATED with the correct constants (reach-*.cfg),  *)
(* showing that the scenarios the invariants are about do happen.         *)

\* An open cut a torn tail, a record appended after it was fsynced, and a
\* later open (after another crash) recovered it.
NeverAckedAfterTornRecovered ==
    ~(up /\ tornNid > 0 /\ \E i \in DOMAIN recovered :
            recovered[i] >= tornNid /\ recovered[i] \in acked)

\* An open recovered records from three segments and cut a torn tail.
NeverTornTailAfterTwoRotations ==
    ~(up /\ tornNid > 0 /\ Len(files) = 3 /\ \A i \in 1..3 : files[i] # <<>>)

=============================================================================
