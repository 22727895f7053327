use datawal_typed::Record;

#[derive(Record)]
#[record(name = "bits", version = 1)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
