#![allow(dead_code)]
pub mod world;
