#![allow(dead_code)]
pub mod cloudformation;
pub mod fault;
pub mod flow;
pub mod http;
pub mod moto;
pub mod survive;
pub mod world;
