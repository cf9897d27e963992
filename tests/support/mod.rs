#![allow(dead_code)]
pub mod flow;
pub mod http;
pub mod moto;
pub mod world;
