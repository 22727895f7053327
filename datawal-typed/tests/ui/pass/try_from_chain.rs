use datawal_typed::{from_payload, to_payload, Codec, Record};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "user", version = 1)]
struct UserV1 {
    #[record(key)]
    id: u32,
    age: i32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "user", version = 2, try_from = UserV1)]
struct UserV2 {
    #[record(key)]
    id: u32,
    age: u8,
}

#[derive(Debug)]
struct BadAge(i32);

impl fmt::Display for BadAge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "age {} is not between 0 and 255", self.0)
    }
}

impl TryFrom<UserV1> for UserV2 {
    type Error = BadAge;
    fn try_from(v1: UserV1) -> Result<Self, BadAge> {
        let age = u8::try_from(v1.age).map_err(|_| BadAge(v1.age))?;
        Ok(UserV2 { id: v1.id, age })
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "user", version = 3, from = UserV2)]
struct User {
    #[record(key)]
    id: u32,
    age: u8,
    email: Option<String>,
}

impl From<UserV2> for User {
    fn from(v2: UserV2) -> Self {
        User {
            id: v2.id,
            age: v2.age,
            email: None,
        }
    }
}

fn main() {
    for codec in Codec::ALL {
        let good = to_payload(&UserV1 { id: 1, age: 30 }, codec).unwrap();
        assert_eq!(
            from_payload::<User>(&good).unwrap().0,
            User {
                id: 1,
                age: 30,
                email: None
            }
        );
        // A refused conversion is an error carrying the conversion's message.
        let bad = to_payload(&UserV1 { id: 2, age: -4 }, codec).unwrap();
        let err = from_payload::<User>(&bad).unwrap_err().to_string();
        assert!(err.contains("age -4 is not between 0 and 255"), "{err}");
        let err = from_payload::<UserV2>(&bad).unwrap_err().to_string();
        assert!(err.contains("age -4 is not between 0 and 255"), "{err}");
    }
}
