// Compile-only stub of UnityEngine: exactly the types and members the package's Runtime/ and
// Editor/ code uses, with the signatures of Unity 2022.3 and 6000.0 as published in
// Unity-Technologies/UnityCsReference (branches 2022.3 and 6000.0; e.g. Mesh.SetVertexBufferData<T>
// in Runtime/Export/Graphics/Mesh.cs, Camera.gateFit in Runtime/Export/Camera/Camera.bindings.cs,
// UnityWebRequest in Modules/UnityWebRequest/Public). Nothing here runs: every body throws. A
// renamed or removed Unity API used by the package fails to compile against these stubs as it
// would in Unity, as long as the stubs are kept to the real signatures (see README, "Stubs").
#pragma warning disable 1591, 0067, 0649
using System;
using System.Collections;
using System.Collections.Generic;

namespace UnityEngine
{
    public class Object
    {
        public string name { get { throw null; } set { throw null; } }
        public static void Destroy(Object obj) { throw null; }
        public static void DestroyImmediate(Object obj) { throw null; }
        public static implicit operator bool(Object exists) { throw null; }
        public static bool operator ==(Object x, Object y) { throw null; }
        public static bool operator !=(Object x, Object y) { throw null; }
        public override bool Equals(object other) { throw null; }
        public override int GetHashCode() { throw null; }
    }

    public class Component : Object
    {
        public Transform transform { get { throw null; } }
        public GameObject gameObject { get { throw null; } }
        public T GetComponent<T>() { throw null; }
    }

    public class Behaviour : Component
    {
        public bool enabled { get { throw null; } set { throw null; } }
    }

    public class MonoBehaviour : Behaviour
    {
        public System.Threading.CancellationToken destroyCancellationToken { get { throw null; } }
    }

    public class ScriptableObject : Object
    {
        public static T CreateInstance<T>() where T : ScriptableObject { throw null; }
    }

    public sealed class GameObject : Object
    {
        public GameObject(string name) { throw null; }
        public Transform transform { get { throw null; } }
        public T AddComponent<T>() where T : Component { throw null; }
        public T GetComponent<T>() { throw null; }
    }

    public class Transform : Component, IEnumerable
    {
        public Vector3 localPosition { get { throw null; } set { throw null; } }
        public Quaternion localRotation { get { throw null; } set { throw null; } }
        public void SetParent(Transform parent, bool worldPositionStays) { throw null; }
        public Vector3 TransformPoint(Vector3 position) { throw null; }
        public IEnumerator GetEnumerator() { throw null; }
    }

    public struct Vector2
    {
        public float x, y;
        public Vector2(float x, float y) { this.x = x; this.y = y; }
    }

    public struct Vector3
    {
        public float x, y, z;
        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
        public static Vector3 zero { get { throw null; } }
    }

    public struct Vector4
    {
        public float x, y, z, w;
        public Vector4(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
    }

    public struct Quaternion
    {
        public float x, y, z, w;
        public Quaternion(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
    }

    public struct Bounds
    {
        public Bounds(Vector3 center, Vector3 size) { throw null; }
    }

    public struct Rect { }

    public enum MeshTopology { Triangles = 0, Quads = 2, Lines = 3, LineStrip = 4, Points = 5 }

    public sealed class Mesh : Object
    {
        public Mesh() { throw null; }
        public Rendering.IndexFormat indexFormat { get { throw null; } set { throw null; } }
        public int subMeshCount { get { throw null; } set { throw null; } }
        public Bounds bounds { get { throw null; } set { throw null; } }
        public void SetVertexBufferParams(int vertexCount, params Rendering.VertexAttributeDescriptor[] attributes) { throw null; }
        public void SetVertexBufferData<T>(T[] data, int dataStart, int meshBufferStart, int count, int stream = 0, Rendering.MeshUpdateFlags flags = Rendering.MeshUpdateFlags.Default) where T : struct { throw null; }
        public void SetIndexBufferParams(int indexCount, Rendering.IndexFormat format) { throw null; }
        public void SetIndexBufferData<T>(T[] data, int dataStart, int meshBufferStart, int count, Rendering.MeshUpdateFlags flags = Rendering.MeshUpdateFlags.Default) where T : struct { throw null; }
        public void SetSubMesh(int index, Rendering.SubMeshDescriptor desc, Rendering.MeshUpdateFlags flags = Rendering.MeshUpdateFlags.Default) { throw null; }
    }

    public sealed class MeshFilter : Component
    {
        public Mesh sharedMesh { get { throw null; } set { throw null; } }
    }

    public class Renderer : Component
    {
        public Material sharedMaterial { get { throw null; } set { throw null; } }
        public Rendering.ShadowCastingMode shadowCastingMode { get { throw null; } set { throw null; } }
        public bool receiveShadows { get { throw null; } set { throw null; } }
        public void GetPropertyBlock(MaterialPropertyBlock properties) { throw null; }
        public void SetPropertyBlock(MaterialPropertyBlock properties) { throw null; }
    }

    public class MeshRenderer : Renderer { }

    public class Material : Object
    {
        public Material(Shader shader) { throw null; }
        public void SetFloat(string name, float value) { throw null; }
    }

    public sealed class MaterialPropertyBlock
    {
        public MaterialPropertyBlock() { throw null; }
        public void SetFloat(string name, float value) { throw null; }
    }

    public sealed class Shader : Object
    {
        public static Shader Find(string name) { throw null; }
    }

    public sealed class Camera : Behaviour
    {
        public enum GateFitMode { Vertical = 1, Horizontal = 2, Fill = 3, Overscan = 4, None = 0 }
        public float nearClipPlane { get { throw null; } set { throw null; } }
        public float farClipPlane { get { throw null; } set { throw null; } }
        public bool usePhysicalProperties { get { throw null; } set { throw null; } }
        public float focalLength { get { throw null; } set { throw null; } }
        public Vector2 sensorSize { get { throw null; } set { throw null; } }
        public Vector2 lensShift { get { throw null; } set { throw null; } }
        public GateFitMode gateFit { get { throw null; } set { throw null; } }
        public RenderTexture targetTexture { get { throw null; } set { throw null; } }
        public Vector3 WorldToScreenPoint(Vector3 position) { throw null; }
    }

    public enum TextureFormat { RGB24 = 3, RFloat = 18 }
    public enum TextureWrapMode { Repeat = 0, Clamp = 1, Mirror = 2, MirrorOnce = 3 }
    public enum FilterMode { Point = 0, Bilinear = 1, Trilinear = 2 }

    public class Texture : Object
    {
        public TextureWrapMode wrapMode { get { throw null; } set { throw null; } }
        public FilterMode filterMode { get { throw null; } set { throw null; } }
    }

    public sealed class Texture2D : Texture
    {
        public Texture2D(int width, int height, TextureFormat textureFormat, bool mipChain, bool linear) { throw null; }
        public void SetPixelData<T>(T[] data, int mipLevel, int sourceDataStartIndex = 0) { throw null; }
        public void Apply(bool updateMipmaps, bool makeNoLongerReadable) { throw null; }
    }

    public class RenderTexture : Texture
    {
        public RenderTexture(int width, int height, int depth) { throw null; }
    }

    public sealed class GraphicsBuffer : IDisposable
    {
        public enum Target { Vertex = 1, Index = 2, CopySource = 4, CopyDestination = 8, Structured = 16, Raw = 32, Append = 64, Counter = 128, IndirectArguments = 256, Constant = 512 }
        public GraphicsBuffer(Target target, int count, int stride) { throw null; }
        public void SetData(Array data) { throw null; }
        public void Release() { throw null; }
        public void Dispose() { throw null; }
    }

    public static class Application
    {
        public static bool isPlaying { get { throw null; } }
        public static string dataPath { get { throw null; } }
        public static string streamingAssetsPath { get { throw null; } }
    }

    public sealed class Debug
    {
        public static void Log(object message) { throw null; }
        public static void LogWarning(object message) { throw null; }
        public static void LogError(object message) { throw null; }
    }

    public class AsyncOperation
    {
        public event Action<AsyncOperation> completed { add { throw null; } remove { throw null; } }
    }

    public class GUIStyle { }
    public sealed class GUILayoutOption { }

    public class GUILayout
    {
        public static bool Button(string text, params GUILayoutOption[] options) { throw null; }
        public static GUILayoutOption Height(float height) { throw null; }
    }

    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public sealed class SerializeField : Attribute { }

    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public sealed class HideInInspector : Attribute { }

    public abstract class PropertyAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public class TooltipAttribute : PropertyAttribute
    {
        public TooltipAttribute(string tooltip) { throw null; }
    }

    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public sealed class MinAttribute : PropertyAttribute
    {
        public MinAttribute(float min) { throw null; }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class ExecuteAlways : Attribute { }
}

namespace UnityEngine.Rendering
{
    public enum IndexFormat { UInt16 = 0, UInt32 = 1 }

    [Flags]
    public enum MeshUpdateFlags { Default = 0, DontValidateIndices = 1 << 0, DontResetBoneBounds = 1 << 1, DontNotifyMeshUsers = 1 << 2, DontRecalculateBounds = 1 << 3 }

    public enum VertexAttribute { Position = 0, Normal, Tangent, Color, TexCoord0, TexCoord1, TexCoord2, TexCoord3, TexCoord4, TexCoord5, TexCoord6, TexCoord7, BlendWeight, BlendIndices }

    public enum VertexAttributeFormat { Float32 = 0, Float16, UNorm8, SNorm8, UNorm16, SNorm16, UInt8, SInt8, UInt16, SInt16, UInt32, SInt32 }

    public enum ShadowCastingMode { Off = 0, On = 1, TwoSided = 2, ShadowsOnly = 3 }

    public struct VertexAttributeDescriptor
    {
        public VertexAttributeDescriptor(VertexAttribute attribute = VertexAttribute.Position, VertexAttributeFormat format = VertexAttributeFormat.Float32, int dimension = 3, int stream = 0) { throw null; }
    }

    public struct SubMeshDescriptor
    {
        public SubMeshDescriptor(int indexStart, int indexCount, MeshTopology topology = MeshTopology.Triangles) { throw null; }
        public Bounds bounds { get { throw null; } set { throw null; } }
        public int vertexCount { get { throw null; } set { throw null; } }
    }
}

namespace UnityEngine.Networking
{
    public class DownloadHandler : IDisposable
    {
        public byte[] data { get { throw null; } }
        public void Dispose() { throw null; }
    }

    public sealed class DownloadHandlerBuffer : DownloadHandler
    {
        public DownloadHandlerBuffer() { throw null; }
    }

    public class UploadHandler : IDisposable
    {
        public string contentType { get { throw null; } set { throw null; } }
        public void Dispose() { throw null; }
    }

    public sealed class UploadHandlerRaw : UploadHandler
    {
        public UploadHandlerRaw(byte[] data) { throw null; }
    }

    public class UnityWebRequestAsyncOperation : AsyncOperation { }

    public class UnityWebRequest : IDisposable
    {
        public enum Result { InProgress = 0, Success = 1, ConnectionError = 2, ProtocolError = 3, DataProcessingError = 4 }
        public UnityWebRequest(string url, string method) { throw null; }
        public DownloadHandler downloadHandler { get { throw null; } set { throw null; } }
        public UploadHandler uploadHandler { get { throw null; } set { throw null; } }
        public int timeout { get { throw null; } set { throw null; } }
        public Result result { get { throw null; } }
        public string error { get { throw null; } }
        public long responseCode { get { throw null; } }
        public void SetRequestHeader(string name, string value) { throw null; }
        public UnityWebRequestAsyncOperation SendWebRequest() { throw null; }
        public Dictionary<string, string> GetResponseHeaders() { throw null; }
        public void Abort() { throw null; }
        public void Dispose() { throw null; }
    }
}
