/** Re-exports of the ONNX protobuf schema (onnx-proto ships protobufjs static code, CommonJS). */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type IModelProto = onnxProto.onnx.IModelProto;
export type IGraphProto = onnxProto.onnx.IGraphProto;
export type INodeProto = onnxProto.onnx.INodeProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;
export type IAttributeProto = onnxProto.onnx.IAttributeProto;
export type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
