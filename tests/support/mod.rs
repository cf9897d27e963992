//! What the test binaries share. Each binary uses a part, so unused items are expected here.
#![allow(dead_code)]
pub mod cloudformation;
pub mod emf;
pub mod fault;
pub mod flow;
pub mod http;
pub mod iam;
pub mod moto;
pub mod policy;
pub mod render;
pub mod survive;
pub mod values;
pub mod world;
